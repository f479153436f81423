/** Reported as the instrumentation scope version and in the User-Agent. */
export const EXPORTER_NAME = 'ig-otel-profiles';
export const EXPORTER_VERSION = '0.1.0';
export const USER_AGENT = `${EXPORTER_NAME}/${EXPORTER_VERSION} (Node.js ${process.version})`;
