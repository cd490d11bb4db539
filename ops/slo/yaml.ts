// Just enough YAML for rule files: maps, lists, strings and numbers. One-line strings are written
// as JSON strings, which YAML reads as double-quoted scalars; multi-line ones (PromQL) as literal
// blocks, which take every character as it is. So no escaping rules of our own.

export type YamlValue = string | number | boolean | YamlValue[] | { [key: string]: YamlValue };

function scalar(value: string | number | boolean): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function isScalar(value: YamlValue): value is string | number | boolean {
  return typeof value !== 'object';
}

function lines(value: YamlValue, indent: string): string[] {
  if (isScalar(value)) return [`${indent}${scalar(value)}`];
  if (Array.isArray(value)) {
    return value.flatMap((item) => {
      const [first = '', ...rest] = lines(item, `${indent}  `);
      return [`${indent}- ${first.trimStart()}`, ...rest];
    });
  }
  return Object.entries(value).flatMap(([key, item]) => {
    if (typeof item === 'string' && item.includes('\n')) {
      return [`${indent}${key}: |-`, ...item.split('\n').map((line) => `${indent}  ${line}`)];
    }
    if (isScalar(item)) return [`${indent}${key}: ${scalar(item)}`];
    if (Array.isArray(item) && item.length === 0) return [`${indent}${key}: []`];
    return [`${indent}${key}:`, ...lines(item, `${indent}  `)];
  });
}

export function toYaml(value: YamlValue, header: string): string {
  return `${header}\n${lines(value, '').join('\n')}\n`;
}
