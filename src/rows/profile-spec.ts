/**
 * How a gadget datasource maps onto an OTLP profile. Comes from the datasource's `profiles.*`
 * annotations (gRPC GadgetInfo) or, for JSON input that carries no annotations, from the built-in
 * presets for known gadgets plus `--annotate` overrides.
 */
export interface ProfileSpec {
  /** Datasource name (`samples` for profile_cpu, `allocs` for profile_cuda). */
  readonly datasource: string;
  /** Gadget image or name when known (`profile_cpu`). */
  readonly gadget?: string;
  /** `profiles.name`: the profile name backends show (`process_cpu`). */
  readonly profileName: string;
  /** `profiles.type`/`profiles.unit`: what each value measures (`samples`/`count`). */
  readonly sampleType: { readonly type: string; readonly unit: string };
  /** Sampling period; unset for gadgets that do not sample (profile_cuda counts bytes). */
  readonly periodType?: { readonly type: string; readonly unit: string };
  readonly period?: bigint;
  /** `profiles.stack-fields`: leaf-first stack strings concatenated in this order. */
  readonly stackFields: readonly string[];
  /** `profiles.value-field`: integer field holding the sample value. */
  readonly valueField: string;
  /** Fields annotated `profiles.sample-attribute: "true"`. */
  readonly sampleAttributeFields: readonly string[];
  /** `fetch-interval` of the datasource in nanoseconds; 0 = one fetch when the gadget stops. */
  readonly fetchIntervalNano?: bigint;
  /** Fields carrying a W3C trace id (16 bytes, hex) and span id (8 bytes, hex) for sample links. */
  readonly traceIdField?: string;
  readonly spanIdField?: string;
}
