import { isIP } from 'node:net';

/**
 * `--telemetry-address HOST:PORT`: where /metrics, /healthz and /readyz listen. HOST is a name or
 * an IP (IPv6 in brackets, `[::1]:9464`); an empty HOST (`:9464`) listens on every interface, as a
 * pod's probes and scrapers need.
 */
export interface TelemetryAddress {
  /** `undefined`: every interface. */
  readonly host?: string;
  readonly port: number;
  /** As given, for messages. */
  readonly text: string;
}

/** The address, or why it is not one (a sentence fragment to follow the setting's name). */
export function parseTelemetryAddress(text: string): TelemetryAddress | string {
  const value = text.trim();
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const hint = 'expected HOST:PORT, e.g. 127.0.0.1:9464, :9464 (every interface) or [::1]:9464';
  if (!match) return `${JSON.stringify(text)} is not an address: ${hint}`;
  const [, v6, name, portText] = match;
  const port = Number(portText);
  if (port < 1 || port > 65_535) return `${JSON.stringify(text)}: port ${port} is out of range (1-65535)`;
  if (v6 !== undefined && isIP(v6) !== 6) return `${JSON.stringify(text)}: [${v6}] is not an IPv6 address`;
  const host = v6 ?? (name === '' ? undefined : name);
  return { ...(host !== undefined ? { host } : {}), port, text: value };
}
