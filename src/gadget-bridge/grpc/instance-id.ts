import { createHash } from 'node:crypto';

/**
 * Gadget instance ids. IG ids are 32 lowercase hex characters; the Helm chart names pre-created
 * headless instances (`config.gadgetConfigMaps[].name`) and derives the id as the first 32 hex
 * characters of sha256(name), so a name maps to a deterministic id.
 */

const INSTANCE_ID = /^[0-9a-f]{32}$/i;

export function isInstanceId(value: string): boolean {
  return INSTANCE_ID.test(value);
}

/** An id as is (lowercased), or the id IG's Helm chart derives from an instance name. */
export function instanceIdFromName(idOrName: string): string {
  const v = idOrName.trim();
  if (v === '')
    throw new Error('gadget instance: expected a 32-hex-character id or an instance name, got ""');
  if (isInstanceId(v)) return v.toLowerCase();
  return createHash('sha256').update(v).digest('hex').slice(0, 32);
}
