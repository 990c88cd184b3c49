export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;

/**
 * A strict reader of the text format 0.0.4: every line a HELP, TYPE or sample line, one
 * TYPE per family before its samples, a family's samples together, histogram samples named
 * `_bucket`/`_sum`/`_count`, the text ending in a newline. Throws on anything else.
 */
export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
      const family = families.get(name) ?? { type: 'untyped', help: '', samples: [] };
      if (family.samples.length) throw new Error(`${kind} after samples of ${name}`);
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type: ${line}`);
        family.type = rest;
      } else family.help = rest;
      families.set(name, family);
      current = name;
      continue;
    }
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = sample;
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN') throw new Error(`bad value: ${line}`);
    const labels: Record<string, string> = {};
    if (labelText !== undefined) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < labelText.length) {
        const match = LABEL.exec(labelText);
        if (!match) throw new Error(`bad labels: ${line}`);
        labels[match[1]] = match[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    const family = current ? families.get(current) : undefined;
    const expected = family?.type === 'histogram' ? [`${current}_bucket`, `${current}_sum`, `${current}_count`] : [current];
    if (!family || !expected.includes(name)) throw new Error(`sample ${name} outside its family (current: ${current})`);
    family.samples.push({ name, labels, value });
  }
  return families;
}

/** The value of the sample `name` of `family` with exactly `labels`. */
export function sampleValue(families: Map<string, Family>, family: string, name: string, labels: Record<string, string>): number | undefined {
  return families
    .get(family)
    ?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}
