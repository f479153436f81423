import { splitRequest } from '../../profiles/request/request-splitter.js';
import { batchFromEncoded } from '../create-export-batch.js';
import type { ExportBatch } from '../export-batch.js';
import { errorText } from '../../util/error-text.js';

/**
 * What an exporter does when the backend refuses a request as too large (HTTP 413, a gRPC
 * message-size error): cut it in halves and send those, again and again, until every piece is
 * accepted or a piece holds a single sample (one stack), which cannot be cut and is dropped as
 * `too_large` (counted). Cutting never drops a sample by itself.
 *
 * Each refusal also teaches the backend's limit: a later request at least as large as the smallest
 * one refused is cut before it is sent, to just under that size, instead of paying a refused round
 * trip first. That is only a guess (the limit may apply to the compressed body), so a lone sample
 * over it is still sent, and a request of that size accepted later makes the guess forgotten.
 * gRPC RESOURCE_EXHAUSTED without a message-size error is not a refusal for size: per OTLP it is
 * permanent (see grpc-status-classifier.ts), and it never reaches this policy.
 */

/** Each cut aims at pieces of at most this share of the refused size: halving. */
const CUT_RATIO = 0.5;
/** A batch is cut at most this many times in a row; each cut at least halves it (2^16 = 65,536 × smaller). */
export const MAX_SPLIT_DEPTH = 16;

/**
 * Cuts a batch into pieces of at most `maxBytes` each, dropping nothing: a lone sample over it is a
 * piece of its own. One piece back means the batch cannot be cut.
 */
export type BatchSplitter = (batch: ExportBatch, maxBytes: number) => ExportBatch[];

/** The real splitter: fresh dictionaries per piece, profiles kept under `maxSamplesPerProfile`. */
export function requestSplitter(maxSamplesPerProfile: number): BatchSplitter {
  return (batch, maxBytes) =>
    splitRequest(batch.request(), {
      maxRequestBytes: maxBytes,
      maxSamplesPerProfile,
      keepOversized: true,
    }).pieces.map((piece) => batchFromEncoded(piece));
}

export type TooLargeVerdict =
  | { readonly kind: 'split'; readonly pieces: readonly ExportBatch[] }
  | { readonly kind: 'drop'; readonly why: string };

export class SplitOnTooLarge {
  private readonly _split: BatchSplitter;
  private _refusedBytes: number | undefined;

  constructor(split: BatchSplitter) {
    this._split = split;
  }

  /** The smallest request size the backend refused (undefined: none yet, or forgotten). */
  get refusedBytes(): number | undefined {
    return this._refusedBytes;
  }

  /**
   * Before sending a batch already cut `depth` times: the batch itself, or its pieces when it is at
   * least as large as a refused one.
   */
  beforeSend(batch: ExportBatch, depth: number): readonly ExportBatch[] {
    const refused = this._refusedBytes;
    if (refused === undefined || batch.bytes.length < refused || depth >= MAX_SPLIT_DEPTH) return [batch];
    try {
      const pieces = this._split(batch, refused - 1);
      return pieces.length > 1 ? pieces : [batch];
    } catch {
      // Only a guess failed: the batch goes as it is, and a refusal cuts it (or says why it cannot).
      return [batch];
    }
  }

  /** The backend accepted `batch`: a size once refused that now passes means the guess was wrong. */
  onAccepted(batch: ExportBatch): void {
    if (this._refusedBytes !== undefined && batch.bytes.length >= this._refusedBytes) {
      this._refusedBytes = undefined;
    }
  }

  /** The backend refused `batch` as too large, after `depth` cuts: its pieces, or why it is dropped. */
  onRefused(batch: ExportBatch, depth: number): TooLargeVerdict {
    this._refusedBytes = Math.min(this._refusedBytes ?? Infinity, batch.bytes.length);
    if (depth >= MAX_SPLIT_DEPTH) {
      return { kind: 'drop', why: `it was already cut ${MAX_SPLIT_DEPTH} times in a row` };
    }
    let pieces: ExportBatch[];
    try {
      pieces = this._split(batch, Math.floor(batch.bytes.length * CUT_RATIO));
    } catch (err) {
      return { kind: 'drop', why: `cutting it failed: ${errorText(err)}` };
    }
    if (pieces.length <= 1) return { kind: 'drop', why: 'it holds a single stack sample and cannot be cut' };
    return { kind: 'split', pieces };
  }
}
