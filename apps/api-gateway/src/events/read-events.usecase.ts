import { Inject, Injectable } from '@nestjs/common';
import { KUBE_EVENT_FIELDS, matchesEventFields, type KubeEvent } from '@paas/contracts/kube-events';
import { parseFieldSelector, type FieldSelectorTerm } from '@paas/contracts/meta';
import { ApiError } from '@paas/platform/api-error';
import type { ResourceStore } from '@paas/platform/resource-repository';
import { assertNamespaceName } from '../namespaces/namespaces.service';
import { EventRepository, toKubeEvent, type EventRecord } from './event.repository';

/** `GET /api/v1/namespaces/{ns}/events[/{name}]`: Events in Kubernetes' shape. */
@Injectable()
export class ReadEvents {
  constructor(@Inject(EventRepository) private readonly events: Pick<ResourceStore<EventRecord>, 'get' | 'list'>) {}

  /** Oldest last occurrence first (as `kubectl get events --sort-by=.lastTimestamp`), narrowed by `?fieldSelector=`. */
  async list(namespace: string, fieldSelector?: unknown): Promise<KubeEvent[]> {
    assertNamespaceName(namespace);
    const terms = eventFieldTerms(fieldSelector);
    return (await this.events.list({ namespace }))
      .map(toKubeEvent)
      .filter((event) => matchesEventFields(event, terms))
      .sort((a, b) => Date.parse(a.lastTimestamp) - Date.parse(b.lastTimestamp) || a.metadata.name.localeCompare(b.metadata.name));
  }

  async get(namespace: string, name: string): Promise<KubeEvent> {
    assertNamespaceName(namespace);
    return toKubeEvent(await this.events.get(namespace, name));
  }
}

/** `?fieldSelector=` as terms on the fields Kubernetes allows for events; anything else is a 400, as there. */
function eventFieldTerms(selector: unknown): FieldSelectorTerm[] {
  if (selector !== undefined && typeof selector !== 'string') throw ApiError.of('BadRequest', 'fieldSelector must be given once, as field=value[,field=value...]');
  let terms: FieldSelectorTerm[];
  try {
    terms = parseFieldSelector(selector);
  } catch (error) {
    throw ApiError.of('BadRequest', `invalid fieldSelector: ${(error as Error).message}`);
  }
  const unknown = terms.find((term) => !Object.hasOwn(KUBE_EVENT_FIELDS, term.field));
  if (unknown) throw ApiError.of('BadRequest', `field label not supported: ${unknown.field} (events take ${Object.keys(KUBE_EVENT_FIELDS).join(', ')})`);
  return terms;
}
