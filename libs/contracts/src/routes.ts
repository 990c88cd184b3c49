import { z } from 'zod';
import { objectMetaInput, type Condition, type Resource } from './meta';

const hostName = z
  .string()
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a DNS-1123 subdomain');

export const routeSpecSchema = z.object({
  /** Empty: the router assigns `<name>-<namespace>.<ROUTER_DOMAIN>`. */
  host: hostName.optional(),
  path: z.string().startsWith('/', 'must start with /').max(1024).default('/'),
  to: z.object({ kind: z.literal('Service').default('Service'), name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63) }),
  port: z.object({ targetPort: z.union([z.number().int().min(1).max(65535), z.string().max(63)]) }).optional(),
});
export type RouteSpec = z.infer<typeof routeSpecSchema>;

export const routeInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('Route').optional(),
  metadata: objectMetaInput,
  spec: routeSpecSchema,
});
export type RouteInput = z.infer<typeof routeInput>;

export interface RouteIngress {
  host: string;
  routerName: string;
  conditions: Condition[];
}
export interface RouteStatus {
  ingress: RouteIngress[];
}
export type Route = Resource<'Route', RouteSpec & { host: string }, RouteStatus>;

export const DEFAULT_ROUTER_DOMAIN = 'apps.localhost';

export function defaultRouteHost(name: string, namespace: string, domain = DEFAULT_ROUTER_DOMAIN): string {
  return `${name}-${namespace}.${domain}`;
}
