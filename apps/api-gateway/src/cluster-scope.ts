/** Cluster-scoped resources (namespaces, users) are stored under a namespace no namespace can be called. */
export const CLUSTER_SCOPE = '_cluster';
