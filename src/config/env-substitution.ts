/**
 * `${VAR}` references in config string values, so secrets (tokens in headers) and per-node values
 * can come from the environment of the pod without templating the ConfigMap.
 *
 * - `${NAME}`: the variable's value; an unset variable is an error that names it.
 * - `${NAME:-fallback}`: the fallback when NAME is unset or empty (shell semantics).
 * - `$${`: a literal `${`.
 */

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type SubstitutionResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Replaces every `${…}` reference in `text`; collects one problem per bad or unset reference. */
export function substituteEnv(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): SubstitutionResult {
  if (!text.includes('${')) return { ok: true, value: text };
  const problems: string[] = [];
  const value = text.replace(REFERENCE, (whole: string, inner: string | undefined) => {
    if (inner === undefined) return '${';
    const sep = inner.indexOf(':-');
    const name = sep === -1 ? inner : inner.slice(0, sep);
    if (!NAME.test(name)) {
      problems.push(
        `"${whole}" is not a variable reference (use \${NAME} or \${NAME:-default}; write $\${ for a literal \${)`,
      );
      return whole;
    }
    const current = env[name];
    if (sep !== -1) return current !== undefined && current !== '' ? current : inner.slice(sep + 2);
    if (current === undefined) {
      problems.push(`environment variable ${name} is not set (set it, or write \${${name}:-default})`);
      return whole;
    }
    return current;
  });
  return problems.length ? { ok: false, problems } : { ok: true, value };
}
