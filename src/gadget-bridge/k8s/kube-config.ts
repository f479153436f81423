/**
 * Finds and loads a kubeconfig the way kubectl does, for @kubernetes/client-node 1.4.0:
 *
 * 1. `--kubeconfig FILE` (must exist; nothing else is read);
 * 2. `$KUBECONFIG`, a path list (`:`-separated on Linux): missing files are skipped, the rest are
 *    merged with kubectl's rule that the FIRST file defining a name (cluster, user, context) or
 *    `current-context` wins;
 * 3. `~/.kube/config`;
 * 4. in-cluster: `$KUBERNETES_SERVICE_HOST`/`_PORT` plus the service-account token and CA.
 *
 * `--context` overrides `current-context`. When nothing is found we fail with an actionable error
 * instead of client-node's silent fallback to `http://localhost:8080`.
 * client-node's own `loadFromDefault` differs from kubectl in the merge (a later file's
 * `current-context` wins, duplicate names throw, missing files throw), hence this module.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { isIPv6 } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { Cluster, Context, User } from '@kubernetes/client-node';
import { errorText } from '../../util/error-text.js';

/** Where in-cluster credentials live (relative to `serviceAccountRoot`). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

const IN_CLUSTER_CONTEXT = 'in-cluster';

export interface KubeConfigOptions {
  /** `--kubeconfig`: read only this file. */
  readonly kubeconfigPath?: string;
  /** `--context`: use this context instead of `current-context`. */
  readonly context?: string;
  /** Environment to read `KUBECONFIG`, `HOME`, `KUBERNETES_SERVICE_*` from; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Prefix for SERVICE_ACCOUNT_DIR (tests point it at a temp dir); default ''. */
  readonly serviceAccountRoot?: string;
}

/** Where the configuration came from. */
export type KubeConfigSource =
  | { readonly kind: 'flag'; readonly paths: readonly string[] }
  | { readonly kind: 'env'; readonly paths: readonly string[] }
  | { readonly kind: 'home'; readonly paths: readonly string[] }
  | { readonly kind: 'in-cluster'; readonly paths: readonly string[] };

export interface LoadedKubeConfig {
  /** Ready for `makeApiClient`, `Watch`, `PortForward`; current context already selected. */
  readonly kubeConfig: KubeConfig;
  readonly source: KubeConfigSource;
  readonly contextName: string;
  /** API server URL of the selected context. */
  readonly server: string;
  /** For logs: `context kind-a (server https://…) from $KUBECONFIG /a:/b`. No secrets. */
  readonly description: string;
}

/** The kubeconfig could not be found or is unusable; the message says where and what to do. */
export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

function describeSource(source: KubeConfigSource): string {
  switch (source.kind) {
    case 'flag':
      return `--kubeconfig ${source.paths.join('')}`;
    case 'env':
      return `$KUBECONFIG ${source.paths.join(delimiter)}`;
    case 'home':
      return source.paths.join('');
    case 'in-cluster':
      return `in-cluster service account (${source.paths.join('')})`;
  }
}

function loadFile(path: string, origin: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    // loadFromFile also makes certificate/key/token paths absolute relative to the file, like kubectl.
    kc.loadFromFile(path);
  } catch (err) {
    throw new KubeConfigError(
      `cannot load kubeconfig ${path} (from ${origin}): ${errorText(err)}; ` +
        'fix the file or point --kubeconfig/KUBECONFIG at a valid one',
    );
  }
  return kc;
}

/** Merges with kubectl's rule: the first file that defines a name or current-context wins. */
function mergeFirstWins(configs: readonly KubeConfig[]): KubeConfig {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = '';
  for (const kc of configs) {
    for (const c of kc.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const x of kc.getContexts()) if (!contexts.has(x.name)) contexts.set(x.name, x);
    if (!currentContext && kc.getCurrentContext()) currentContext = kc.getCurrentContext();
  }
  const merged = new KubeConfig();
  merged.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  });
  return merged;
}

function inClusterConfig(
  env: Readonly<Record<string, string | undefined>>,
  root: string,
): { kc: KubeConfig; tokenPath: string } | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenPath = `${root}${SERVICE_ACCOUNT_DIR}/token`;
  if (!host || !port || !existsSync(tokenPath)) return undefined;
  const namespacePath = `${root}${SERVICE_ACCOUNT_DIR}/namespace`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: IN_CLUSTER_CONTEXT,
        server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
        caFile: `${root}${SERVICE_ACCOUNT_DIR}/ca.crt`,
        skipTLSVerify: false,
      },
    ],
    // The tokenFile auth provider re-reads the file, so rotated projected tokens keep working.
    users: [
      { name: IN_CLUSTER_CONTEXT, authProvider: { name: 'tokenFile', config: { tokenFile: tokenPath } } },
    ],
    contexts: [
      {
        name: IN_CLUSTER_CONTEXT,
        cluster: IN_CLUSTER_CONTEXT,
        user: IN_CLUSTER_CONTEXT,
        ...(existsSync(namespacePath) ? { namespace: readFileSync(namespacePath, 'utf8').trim() } : {}),
      },
    ],
    currentContext: IN_CLUSTER_CONTEXT,
  });
  return { kc, tokenPath };
}

/**
 * Loads the kubeconfig as kubectl would (see the module comment) and selects the context.
 * @throws KubeConfigError when no configuration is found, a file is invalid, or the context is unknown.
 */
export function loadKubeConfig(options: KubeConfigOptions = {}): LoadedKubeConfig {
  const env = options.env ?? process.env;
  let kc: KubeConfig;
  let source: KubeConfigSource;
  const tried: string[] = [];

  if (options.kubeconfigPath !== undefined && options.kubeconfigPath !== '') {
    const path = options.kubeconfigPath;
    if (!existsSync(path)) throw new KubeConfigError(`--kubeconfig ${path}: file not found`);
    kc = loadFile(path, '--kubeconfig');
    source = { kind: 'flag', paths: [path] };
  } else {
    let found: { kc: KubeConfig; source: KubeConfigSource } | undefined;
    const list = env.KUBECONFIG;
    if (list !== undefined && list !== '') {
      const paths = list.split(delimiter).filter((p) => p !== '');
      const existing = paths.filter((p) => existsSync(p));
      tried.push(`$KUBECONFIG=${list}`);
      if (existing.length > 0) {
        found = {
          kc: mergeFirstWins(existing.map((p) => loadFile(p, '$KUBECONFIG'))),
          source: { kind: 'env', paths: existing },
        };
      }
    } else {
      const home = env.HOME ?? homedir();
      const path = join(home, '.kube', 'config');
      tried.push(path);
      if (existsSync(path))
        found = { kc: loadFile(path, '~/.kube/config'), source: { kind: 'home', paths: [path] } };
    }
    if (!found) {
      const inCluster = inClusterConfig(env, options.serviceAccountRoot ?? '');
      tried.push(
        'in-cluster service account ($KUBERNETES_SERVICE_HOST and ' + SERVICE_ACCOUNT_DIR + '/token)',
      );
      if (inCluster)
        found = { kc: inCluster.kc, source: { kind: 'in-cluster', paths: [inCluster.tokenPath] } };
    }
    if (!found) {
      throw new KubeConfigError(
        `no Kubernetes configuration found (tried ${tried.join(', ')}); ` +
          'pass --kubeconfig FILE, set KUBECONFIG, or run inside a pod with a service account',
      );
    }
    kc = found.kc;
    source = found.source;
  }

  const where = describeSource(source);
  const contextName =
    options.context !== undefined && options.context !== '' ? options.context : kc.getCurrentContext();
  const available = kc.getContexts().map((c) => c.name);
  if (!contextName) {
    throw new KubeConfigError(
      `kubeconfig from ${where} has no current-context; pass --context (available: ${available.join(', ') || 'none'})`,
    );
  }
  const context = kc.getContextObject(contextName);
  if (!context) {
    throw new KubeConfigError(
      `context "${contextName}" not found in kubeconfig from ${where} (available: ${available.join(', ') || 'none'})`,
    );
  }
  kc.setCurrentContext(contextName);
  const cluster = kc.getCluster(context.cluster);
  if (!cluster) {
    throw new KubeConfigError(
      `context "${contextName}" refers to unknown cluster "${context.cluster}" (kubeconfig from ${where})`,
    );
  }
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    // client-node 1.4.0 refuses plain HTTP otherwise (KubeConfig.createAgent), at the first request.
    throw new KubeConfigError(
      `cluster "${cluster.name}" uses plain HTTP (${cluster.server}); @kubernetes/client-node only allows that ` +
        `with "insecure-skip-tls-verify: true" on the cluster in kubeconfig from ${where}`,
    );
  }
  return {
    kubeConfig: kc,
    source,
    contextName,
    server: cluster.server,
    description: `context ${contextName} (server ${cluster.server}) from ${where}`,
  };
}
