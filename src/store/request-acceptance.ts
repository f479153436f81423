import type { ExportProfilesServiceRequest } from '../profiles/model/otlp-model.js';
import type { ConformanceIssue, ConformanceOptions } from '../profiles/validation/conformance-validator.js';
import { validateRequest } from '../profiles/validation/conformance-validator.js';
import { describeIssues, InvalidRequestError } from './store-errors.js';

/**
 * Which profiles of an incoming request the store accepts. The conformance validator decides; the store
 * only relaxes what a Collector accepts too: duplicate or unreferenced dictionary entries, missing frame
 * types and unmerged samples are the sender's inefficiencies, not data errors, and empty lists carry no
 * data. A finding inside one profile rejects that profile (partial success); a finding in the dictionary
 * rejects the request (every index into it is suspect), as does a request whose every profile is rejected.
 */

const RECEIVER_CHECKS: ConformanceOptions = {
  checkDuplicates: false,
  checkOrphans: false,
  checkExtras: false,
};

const PROFILE_PATH = /^resource_profiles\[(\d+)\]\.scope_profiles\[(\d+)\]\.profiles\[(\d+)\]/;
const EMPTY_LIST_PATH =
  /^(resource_profiles|resource_profiles\[\d+\]\.scope_profiles|resource_profiles\[\d+\]\.scope_profiles\[\d+\]\.profiles)$/;

export interface Acceptance {
  readonly accepted: (ri: number, si: number, pi: number) => boolean;
  readonly acceptedProfiles: number;
  readonly rejectedProfiles: number;
  /** Findings of the rejected profiles, for partial_success.error_message. */
  readonly errorMessage?: string;
}

/** Throws InvalidRequestError when nothing of the request can be stored. */
export function acceptRequest(request: ExportProfilesServiceRequest): Acceptance {
  const issues = validateRequest(request, RECEIVER_CHECKS);
  const rejected = new Set<string>();
  const profileIssues: ConformanceIssue[] = [];
  const requestIssues: ConformanceIssue[] = [];
  for (const issue of issues) {
    const m = PROFILE_PATH.exec(issue.path);
    if (m) {
      rejected.add(`${m[1]}/${m[2]}/${m[3]}`);
      profileIssues.push(issue);
    } else if (!EMPTY_LIST_PATH.test(issue.path)) requestIssues.push(issue);
  }
  if (requestIssues.length > 0) throw new InvalidRequestError([...requestIssues, ...profileIssues]);
  let total = 0;
  for (const rp of request.resourceProfiles) for (const sp of rp.scopeProfiles) total += sp.profiles.length;
  if (rejected.size > 0 && rejected.size === total) throw new InvalidRequestError(profileIssues);
  return {
    accepted: rejected.size === 0 ? () => true : (ri, si, pi) => !rejected.has(`${ri}/${si}/${pi}`),
    acceptedProfiles: total - rejected.size,
    rejectedProfiles: rejected.size,
    ...(profileIssues.length > 0 ? { errorMessage: describeIssues(profileIssues) } : {}),
  };
}
