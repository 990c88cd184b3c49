/**
 * Limits on the shape of JSON taken from outside a process, checked on the raw text before
 * it is parsed. `JSON.parse` copes with any depth, but what runs after it recurses
 * (`JSON.stringify` before a NATS hop, zod, the BSON encoder): a body nested ten thousand
 * levels deep got past the parser and broke them with a RangeError, a 500. The check is one
 * pass over the bytes without recursion, so the check itself cannot overflow.
 */
export interface JsonLimits {
  /** Objects and arrays inside one another, the outermost counting 1. */
  maxDepth: number;
  /** Object members in the whole document. */
  maxKeys: number;
}

/** What the HTTP edges take (the gateway's bodies, the registry's manifests): resources nest a dozen levels at most. */
export const HTTP_JSON_LIMITS: JsonLimits = { maxDepth: 32, maxKeys: 10_000 };

/** What a service takes over NATS: an HTTP body inside a request envelope, with room to spare. */
export const BUS_JSON_LIMITS: JsonLimits = { maxDepth: 40, maxKeys: 20_000 };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;

/**
 * What is wrong with the shape of a JSON text (UTF-8 bytes or a string), or undefined when
 * it is within `limits`. Only structure is looked at: malformed JSON is left to the parser.
 * Structural characters are ASCII, so multi-byte UTF-8 sequences never look like one.
 */
export function jsonShapeProblem(text: Uint8Array | string, limits: JsonLimits): string | undefined {
  const length = text.length;
  const isString = typeof text === 'string';
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let i = 0; i < length; i++) {
    const code = isString ? text.charCodeAt(i) : text[i];
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
      continue;
    }
    switch (code) {
      case QUOTE:
        inString = true;
        break;
      case OPEN_BRACE:
      case OPEN_BRACKET:
        if (++depth > limits.maxDepth) return `JSON nested more than ${limits.maxDepth} levels deep is not accepted`;
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        depth--;
        break;
      case COLON:
        if (++keys > limits.maxKeys) return `JSON with more than ${limits.maxKeys} object keys is not accepted`;
        break;
    }
  }
  return undefined;
}
