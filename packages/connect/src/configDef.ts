/**
 * Config definitions with types, defaults and validation messages, after Kafka's `ConfigDef`
 * (types BOOLEAN..PASSWORD, `Range`, `ValidString`, "Missing required configuration ...") and
 * the REST validate answer `ConfigInfos` (`{name, error_count, groups, configs:[{definition, value}]}`).
 */
export type ConfigType = 'BOOLEAN' | 'STRING' | 'INT' | 'LONG' | 'DOUBLE' | 'LIST' | 'CLASS' | 'PASSWORD';
export type Importance = 'HIGH' | 'MEDIUM' | 'LOW';
export type ConfigValue = boolean | string | number | string[] | null;

/** Returns an error sentence (Kafka's validator text) or undefined. */
export type Validator = (name: string, value: ConfigValue) => string | undefined;

export interface ConfigKey {
  name: string;
  type: ConfigType;
  /** undefined: required. */
  defaultValue?: ConfigValue;
  importance: Importance;
  documentation: string;
  group?: string;
  validator?: Validator;
  displayName?: string;
}

export const NO_DEFAULT = undefined;

export const validators = {
  atLeast(min: number): Validator {
    return (name, value) =>
      typeof value === 'number' && value < min
        ? `Invalid value ${value} for configuration ${name}: Value must be at least ${min}`
        : undefined;
  },
  between(min: number, max: number): Validator {
    return (name, value) =>
      typeof value === 'number' && (value < min || value > max)
        ? `Invalid value ${value} for configuration ${name}: Value must be no less than ${min} and no more than ${max}`
        : undefined;
  },
  in(...allowed: string[]): Validator {
    return (name, value) =>
      typeof value === 'string' && !allowed.includes(value)
        ? `Invalid value ${value} for configuration ${name}: String must be one of: ${allowed.join(', ')}`
        : undefined;
  },
  nonEmptyString(): Validator {
    return (name, value) => (value === '' ? `Invalid value  for configuration ${name}: String must be non-empty` : undefined);
  },
};

export interface ConfigInfo {
  definition: {
    name: string;
    type: ConfigType;
    required: boolean;
    default_value: string | null;
    importance: Importance;
    documentation: string;
    group: string | null;
    width: 'NONE';
    display_name: string;
    dependents: string[];
    order: number;
  };
  value: { name: string; value: string | null; recommended_values: string[]; errors: string[]; visible: boolean };
}

export interface ConfigInfos {
  name: string;
  error_count: number;
  groups: string[];
  configs: ConfigInfo[];
}

export class ConfigDef {
  private readonly keys = new Map<string, ConfigKey>();

  define(key: ConfigKey): this {
    if (this.keys.has(key.name)) throw new Error(`Configuration ${key.name} is defined twice.`);
    this.keys.set(key.name, key);
    return this;
  }

  /** This definition plus another's keys (the other's win on a clash, as Kafka's ConfigDef(base)). */
  merge(other: ConfigDef): ConfigDef {
    const out = new ConfigDef();
    for (const k of this.keys.values()) out.keys.set(k.name, k);
    for (const k of other.keys.values()) out.keys.set(k.name, k);
    return out;
  }

  names(): string[] {
    return [...this.keys.keys()];
  }

  /** Every key's parsed value (defaults filled in) and every key's errors. */
  validateAll(props: Record<string, string>): { values: Map<string, ConfigValue>; errors: Map<string, string[]> } {
    const values = new Map<string, ConfigValue>();
    const errors = new Map<string, string[]>();
    for (const key of this.keys.values()) {
      const errs: string[] = [];
      const raw = props[key.name];
      let value: ConfigValue = null;
      if (raw === undefined) {
        if (key.defaultValue === undefined) errs.push(`Missing required configuration "${key.name}" which has no default value.`);
        else value = key.defaultValue;
      } else {
        const parsed = parseValue(key, raw);
        if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) errs.push(parsed.error);
        else value = parsed;
      }
      if (errs.length === 0 && key.validator && value !== null) {
        const e = key.validator(key.name, value);
        if (e) errs.push(e);
      }
      values.set(key.name, value);
      errors.set(key.name, errs);
    }
    return { values, errors };
  }

  /** Parsed values; throws ConfigException with the first error. */
  parse(props: Record<string, string>): ParsedConfig {
    const { values, errors } = this.validateAll(props);
    for (const errs of errors.values()) if (errs.length > 0) throw new ConfigException(errs[0]!);
    return new ParsedConfig(values);
  }

  /** The REST validate answer (Kafka's ConfigInfos). */
  infos(connectorClass: string, props: Record<string, string>): ConfigInfos {
    const { errors } = this.validateAll(props);
    const groups: string[] = [];
    const configs: ConfigInfo[] = [];
    let errorCount = 0;
    let order = 0;
    for (const key of this.keys.values()) {
      if (key.group && !groups.includes(key.group)) groups.push(key.group);
      const errs = errors.get(key.name) ?? [];
      errorCount += errs.length > 0 ? 1 : 0;
      configs.push({
        definition: {
          name: key.name,
          type: key.type,
          required: key.defaultValue === undefined,
          default_value: key.defaultValue === undefined || key.defaultValue === null ? null : formatValue(key.defaultValue),
          importance: key.importance,
          documentation: key.documentation,
          group: key.group ?? null,
          width: 'NONE',
          display_name: key.displayName ?? key.name,
          dependents: [],
          order: order++,
        },
        value: { name: key.name, value: props[key.name] ?? null, recommended_values: [], errors: errs, visible: true },
      });
    }
    return { name: connectorClass, error_count: errorCount, groups, configs };
  }
}

export class ConfigException extends Error {
  override readonly name = 'ConfigException';
}

export class ParsedConfig {
  constructor(private readonly values: Map<string, ConfigValue>) {}
  private get(name: string): ConfigValue {
    if (!this.values.has(name)) throw new ConfigException(`Unknown configuration '${name}'`);
    return this.values.get(name)!;
  }
  string(name: string): string {
    return this.get(name) as string;
  }
  optionalString(name: string): string | null {
    return this.get(name) as string | null;
  }
  int(name: string): number {
    return this.get(name) as number;
  }
  boolean(name: string): boolean {
    return this.get(name) as boolean;
  }
  list(name: string): string[] {
    return (this.get(name) as string[] | null) ?? [];
  }
}

function formatValue(v: ConfigValue): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

function parseValue(key: ConfigKey, raw: string): ConfigValue | { error: string } {
  const trimmed = raw.trim();
  const bad = (what: string) => ({ error: `Invalid value ${raw} for configuration ${key.name}: ${what}` });
  switch (key.type) {
    case 'BOOLEAN':
      if (/^true$/i.test(trimmed)) return true;
      if (/^false$/i.test(trimmed)) return false;
      return bad('Expected value to be either true or false');
    case 'INT':
    case 'LONG': {
      if (!/^-?\d+$/.test(trimmed)) return bad(`Not a number of type ${key.type}`);
      const n = Number(trimmed);
      if (key.type === 'INT' && (n < -(2 ** 31) || n > 2 ** 31 - 1)) return bad('Not a number of type INT');
      return n;
    }
    case 'DOUBLE': {
      const n = Number(trimmed);
      return trimmed === '' || Number.isNaN(n) ? bad('Not a number of type DOUBLE') : n;
    }
    case 'LIST':
      return trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
    case 'STRING':
    case 'CLASS':
    case 'PASSWORD':
      return trimmed;
  }
}
