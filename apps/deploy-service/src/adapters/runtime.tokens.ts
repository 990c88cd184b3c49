export const CONTAINER_RUNTIME = Symbol('CONTAINER_RUNTIME');
export const DOCKER_CLIENT = Symbol('DOCKER_CLIENT');
export const HTTP_PROBER = Symbol('HTTP_PROBER');
