/** `scheme://userinfo@`: the userinfo of a URL ends at the first `@` before any `/`, `?` or `#`. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]+@/gi;

/**
 * `text` with the userinfo of every URL in it replaced by `***`
 * (`https://user:token@host/x` → `https://***@host/x`), for whatever shows a git source to
 * users: build logs, image labels, error messages. An scp-style `git@host:path` keeps its
 * user (a login name, not a secret), and an `@` in a path is left alone.
 */
export function redactCredentials(text: string): string {
  return text.replace(URL_USERINFO, '$1***@');
}
