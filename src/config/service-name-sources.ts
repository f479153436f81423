/**
 * The vocabulary of `resource.service_name_from`: the sources the `service.name` chain reads, in
 * the order a user lists them. The resolver (`profiles/aggregation/resource-attributes.ts`) gives
 * each its meaning; the config layer validates against this list.
 */

/** The chain sources without an argument (`label:` and `field:` take one). */
export const SERVICE_NAME_SOURCES: readonly string[] = [
  'k8s.env',
  'k8s.semconv',
  'k8s.semconv.labels',
  'owner',
  'k8s.container.name',
  'container.name',
  'env',
  'process.executable.name',
];

/** Every service.name chain source the resolver understands, for config validation. */
export function isServiceNameSource(source: string): boolean {
  return /^label:.+/.test(source) || /^field:.+/.test(source) || SERVICE_NAME_SOURCES.includes(source);
}
