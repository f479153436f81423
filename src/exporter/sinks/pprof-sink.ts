import { link, mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { ExporterConfig } from '../../config/exporter-config.js';
import type { PprofProfileFile } from '../../profiles/pprof/otlp-to-pprof.js';
import { toPprofProfiles } from '../../profiles/pprof/otlp-to-pprof.js';
import type { ExportBatch } from '../export-batch.js';
import type { ExportResponse } from '../export-response.js';
import type { ExporterDeps } from '../exporter-deps.js';
import type { ExporterTransport } from '../exporter-transport.js';
import { classifyIoError } from './io-error.js';
import { errorCode, errorText } from '../../util/error-text.js';

/**
 * Writes one gzipped pprof file per OTLP Profile into a directory (`go tool pprof`, speedscope and
 * friends read them as they are). Files appear atomically: each is written under a hidden temporary
 * name and hard-linked to its final name, which also never overwrites an existing file.
 */

/** Batches whose partly written files are remembered, so a retry does not write them twice. */
const MAX_REMEMBERED_BATCHES = 1024;
/** Suffixes `-1`, `-2`, … tried when a file name is taken. */
const MAX_NAME_ATTEMPTS = 10_000;
const EXTENSION = '.pb.gz';

const gzipAsync = promisify(gzip);

let tempSequence = 0;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Moves `temp` to the first free `<base>[-n].pb.gz` in `dir`; returns the final path. */
async function publish(temp: string, dir: string, base: string): Promise<string> {
  for (let n = 0; n < MAX_NAME_ATTEMPTS; n++) {
    const path = join(dir, n === 0 ? `${base}${EXTENSION}` : `${base}-${n}${EXTENSION}`);
    try {
      await link(temp, path);
      return path;
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') continue;
      // File systems without hard links (some FUSE and SMB mounts): rename, after a best-effort check.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
        if (await exists(path)) continue;
        await rename(temp, path);
        return path;
      }
      throw error;
    }
  }
  throw Object.assign(
    new Error(`${MAX_NAME_ATTEMPTS} files named ${base}*${EXTENSION} already exist in ${dir}`),
    {
      code: 'EEXIST',
    },
  );
}

async function writeProfileFile(
  dir: string,
  file: PprofProfileFile,
): Promise<{ path: string; bytes: number }> {
  const data = await gzipAsync(file.profile.encode());
  const temp = join(dir, `.${file.name}.${process.pid}.${++tempSequence}.tmp`);
  try {
    await writeFile(temp, data, { flag: 'wx' });
    const path = await publish(temp, dir, file.name);
    return { path, bytes: data.length };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * The `pprof` exporter: `<directory>/<service>-<pid>-<type>-<UTC time>.pb.gz` per profile. Disk
 * full and descriptor exhaustion are retryable; permission and path errors are permanent.
 * The per-attempt timeout does not apply: local writes are not cancelled half way.
 */
export function createPprofSink(config: ExporterConfig, deps: ExporterDeps): ExporterTransport {
  const configKey = `operator.otel-profiles.exporters.${config.name}.directory`;
  if (config.directory === undefined || config.directory === '') {
    throw new Error(`pprof exporter "${config.name}" needs a directory: set ${configKey}`);
  }
  const dir = resolve(config.directory);
  const logger = deps.logger.child(`pprof ${config.name}`);
  const labels = { exporter: config.name };
  /** batch id → indices of its profiles already on disk. */
  const written = new Map<string, Set<number>>();

  const remember = (id: string, done: Set<number>): void => {
    written.delete(id);
    written.set(id, done);
    while (written.size > MAX_REMEMBERED_BATCHES) {
      const oldest = written.keys().next().value;
      if (oldest === undefined) break;
      written.delete(oldest);
    }
  };

  return {
    description: `pprof ${dir}`,

    async send(batch: ExportBatch): Promise<ExportResponse> {
      let files: PprofProfileFile[];
      try {
        files = toPprofProfiles(batch.request());
      } catch (error) {
        const message = errorText(error);
        return {
          status: 'failure',
          error: new Error(
            `pprof exporter "${config.name}": batch ${batch.id} cannot be converted: ${message}`,
            {
              cause: error,
            },
          ),
        };
      }
      try {
        await mkdir(dir, { recursive: true });
      } catch (error) {
        return classifyIoError(
          error,
          `pprof exporter "${config.name}": cannot create directory ${dir}`,
          configKey,
        );
      }
      const done = written.get(batch.id) ?? new Set<number>();
      for (let i = 0; i < files.length; i++) {
        const file = files[i];
        if (file === undefined || done.has(i)) continue;
        try {
          const { path, bytes } = await writeProfileFile(dir, file);
          done.add(i);
          deps.counters.add('pprof_files_written', 1, labels);
          deps.counters.add('sink_bytes_written', bytes, labels);
          logger.debug('wrote pprof file', { path, bytes, samples: file.profile.sample.length });
        } catch (error) {
          const response = classifyIoError(
            error,
            `pprof exporter "${config.name}": cannot write ${join(dir, file.name + EXTENSION)}`,
            configKey,
          );
          if (response.status === 'retryable' && done.size > 0) remember(batch.id, done);
          else written.delete(batch.id);
          return response;
        }
      }
      written.delete(batch.id);
      return { status: 'success' };
    },

    shutdown(): Promise<void> {
      written.clear();
      return Promise.resolve();
    },
  };
}
