import { z } from 'zod';

/** Every resource speaks this API version, like OpenShift's `v1` core group. */
export const API_VERSION = 'v1';

/** DNS-1123 label: what Kubernetes accepts as a namespace or resource name. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_LABEL_MAX = 63;

export const dns1123Label = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(DNS1123_LABEL_MAX, `must be no more than ${DNS1123_LABEL_MAX} characters`)
  .regex(
    DNS1123_LABEL,
    "must be a DNS-1123 label: lower case alphanumeric characters or '-', starting and ending with an alphanumeric character",
  );

const labelValue = z.string().max(63).regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/, 'must be a valid label value');
const labelKey = z.string().min(1).max(253).regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be a valid label key');

export const labelsSchema = z.record(labelKey, labelValue);
export const annotationsSchema = z.record(z.string().min(1).max(253), z.string().max(262144));

export type Labels = Record<string, string>;

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  /** Opaque to clients; a stale value on update is answered with 409 Conflict. */
  resourceVersion: string;
  /** Bumped on every change to `spec`. */
  generation: number;
  creationTimestamp: string;
  labels?: Labels;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface Resource<K extends string, Spec, Status> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: Spec;
  status: Status;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime: string;
}

export interface ResourceList<T> {
  apiVersion: typeof API_VERSION;
  kind: string;
  /** `continue`: there is more; pass it back (with the same limit) for the next page. */
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** What a client may set on create or update: the server owns the rest of `metadata`. */
export const objectMetaInput = z.object({
  name: dns1123Label,
  namespace: dns1123Label.optional(),
  labels: labelsSchema.optional(),
  annotations: annotationsSchema.optional(),
  resourceVersion: z.string().optional(),
});
export type ObjectMetaInput = z.infer<typeof objectMetaInput>;

export const envVar = z.object({
  name: z.string().min(1).max(256).regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/, 'must be a valid environment variable name'),
  value: z.string().max(32768).default(''),
});
export type EnvVar = z.infer<typeof envVar>;

/** `key=value,key2=value2` as Kubernetes writes equality-based label selectors. */
export function parseLabelSelector(selector: string | undefined): Labels {
  const labels: Labels = {};
  for (const term of (selector ?? '').split(',').map((t) => t.trim()).filter(Boolean)) {
    const [key, value] = term.split('=').map((p) => p.trim());
    if (!key || value === undefined) throw new Error(`label selector term "${term}" is not key=value`);
    labels[key] = value;
  }
  return labels;
}

export interface FieldSelectorTerm {
  field: string;
  operator: '=' | '!=';
  value: string;
}

/**
 * `field=value,field2!=value2` (`==` is `=`) as Kubernetes writes field selectors; every term
 * must hold. Throws on a term that is none of these, naming it.
 */
export function parseFieldSelector(selector: string | undefined): FieldSelectorTerm[] {
  return (selector ?? '')
    .split(',')
    .map((term) => term.trim())
    .filter(Boolean)
    .map((term) => {
      const match = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!]*)$/.exec(term);
      if (!match) throw new Error(`field selector term "${term}" is not field=value or field!=value`);
      return { field: match[1], operator: match[2] === '!=' ? '!=' : '=', value: match[3].trim() };
    });
}

/** Whether `owner` is among `child`'s owners (by uid: a re-created owner of the same name is not). */
export function isOwnedBy(child: { metadata: Pick<ObjectMeta, 'ownerReferences'> }, owner: { metadata: Pick<ObjectMeta, 'uid'> } | undefined): boolean {
  return !!owner && !!child.metadata.ownerReferences?.some((ref) => ref.uid === owner.metadata.uid);
}

export function matchesLabels(labels: Labels | undefined, selector: Labels): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}
