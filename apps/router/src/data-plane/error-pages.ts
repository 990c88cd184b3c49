/** The router's own answers, short HTML like OpenShift's router pages. Values are escaped: the Host header is the client's. */
export function noRoutePage(host: string): string {
  return page('No route for host', `No route for host ${escapeHtml(host)}`);
}

export function noEndpointsPage(service: string): string {
  return page('Application is not available', `Application is not available: no ready endpoints for service ${escapeHtml(service)}`);
}

export function badGatewayPage(service: string): string {
  return page('Bad gateway', `Application is not available: the router could not connect to service ${escapeHtml(service)}`);
}

export function forbiddenPage(host: string): string {
  return page('Forbidden', `Your address may not reach ${escapeHtml(host)}`);
}

export function tooManyRequestsPage(host: string): string {
  return page('Too many requests', `Too many requests from your address to ${escapeHtml(host)}; try again in a few seconds`);
}

export function gatewayTimeoutPage(service: string): string {
  return page('Gateway timeout', `Application did not answer in time: service ${escapeHtml(service)}`);
}

function page(title: string, text: string): string {
  return `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>\n`;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}
