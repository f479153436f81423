/**
 * Lengths of the OTLP ids (opentelemetry-proto: `Link.trace_id`, `Link.span_id`, `Profile.profile_id`)
 * and of their lowercase hex text (W3C trace context, OTLP/JSON), the one place every reader,
 * writer and query checks them against.
 */

export const TRACE_ID_BYTES = 16;
export const SPAN_ID_BYTES = 8;
export const PROFILE_ID_BYTES = 16;

export const TRACE_ID_HEX_DIGITS = TRACE_ID_BYTES * 2;
export const SPAN_ID_HEX_DIGITS = SPAN_ID_BYTES * 2;

/** A trace id as lowercase hex (`4bf92f3577b34da6a3ce929d0e0e4736`). */
export const TRACE_ID_HEX = new RegExp(`^[0-9a-f]{${TRACE_ID_HEX_DIGITS}}$`);
/** A span id as lowercase hex (`00f067aa0ba902b7`). */
export const SPAN_ID_HEX = new RegExp(`^[0-9a-f]{${SPAN_ID_HEX_DIGITS}}$`);
