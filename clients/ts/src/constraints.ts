// The contract's constraints ((superline.required), min_len, max_len, min, max, max_items in
// superline/options.proto), checked before a payload is sent, with the server's rules and issue
// shape: the same {path, code, message} a VALIDATION from the server carries. Options are read with
// protobuf-es's getOption; each message type's rules are read once.
import { getOption, hasOption, ScalarType, type DescField, type DescMessage, type Message } from "@bufbuild/protobuf";
import { reflect, type ReflectList, type ReflectMap, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { max, max_items, max_len, min, min_len, required } from "./gen/superline/options_pb.js";

export interface ValidationIssue {
  path: (string | number)[];
  code: string; // invalid_type, too_small, too_big, custom
  message: string;
}

interface FieldRule {
  field: DescField;
  required: boolean;
  minLen?: number;
  maxLen?: number;
  min?: number;
  max?: number;
  maxItems?: number;
  child?: Plan; // a message field's type (a map's value type) with rules somewhere inside
}
type Plan = FieldRule[];

// Past this many, a payload's further issues are not listed (the server's bound too).
const MAX_ISSUES = 16;
const plans = new WeakMap<DescMessage, Plan | null>();

function ownRules(field: DescField): boolean {
  return (
    getOption(field, required) ||
    [min_len, max_len, min, max, max_items].some((option) => hasOption(field, option))
  );
}

function valueType(field: DescField): DescMessage | undefined {
  if (field.fieldKind === "message") return field.message;
  if (field.fieldKind === "list" && field.listKind === "message") return field.message;
  if (field.fieldKind === "map" && field.mapKind === "message") return field.message;
  return undefined;
}

function needsChecking(schema: DescMessage): boolean {
  const seen = new Set<DescMessage>();
  const visit = (d: DescMessage): boolean => {
    if (seen.has(d)) return false;
    seen.add(d);
    return d.fields.some((f) => ownRules(f) || (valueType(f) !== undefined && visit(valueType(f)!)));
  };
  return visit(schema);
}

function planOf(schema: DescMessage): Plan | null {
  const known = plans.get(schema);
  if (known !== undefined) return known;
  if (!needsChecking(schema)) {
    plans.set(schema, null);
    return null;
  }
  const plan: Plan = [];
  plans.set(schema, plan); // first, so a recursive type finds it
  for (const field of schema.fields) {
    const rule: FieldRule = { field, required: getOption(field, required) };
    if (hasOption(field, min_len)) rule.minLen = getOption(field, min_len);
    if (hasOption(field, max_len)) rule.maxLen = getOption(field, max_len);
    if (hasOption(field, min)) rule.min = getOption(field, min);
    if (hasOption(field, max)) rule.max = getOption(field, max);
    if (hasOption(field, max_items)) rule.maxItems = getOption(field, max_items);
    const inner = valueType(field);
    if (inner !== undefined) rule.child = planOf(inner) ?? undefined;
    if (ownRules(field) || rule.child !== undefined) plan.push(rule);
  }
  return plan;
}

class Checker {
  readonly issues: ValidationIssue[] = [];
  private readonly path: (string | number)[] = [];

  message(m: ReflectMessage, plan: Plan): void {
    for (const rule of plan) {
      if (this.full()) return;
      const field = rule.field;
      this.path.push(field.jsonName);
      if (field.fieldKind === "list") {
        this.list(m.get(field) as ReflectList, rule);
      } else if (field.fieldKind === "map") {
        this.map(m.get(field) as ReflectMap, rule);
      } else if (m.isSet(field)) {
        this.value(m.get(field), rule);
      } else if (rule.required) {
        this.issue("invalid_type", "Required");
      }
      this.path.pop();
    }
  }

  private full(): boolean {
    return this.issues.length >= MAX_ISSUES;
  }

  private issue(code: string, message: string): void {
    if (!this.full()) this.issues.push({ path: [...this.path], code, message });
  }

  private list(list: ReflectList, rule: FieldRule): void {
    if (rule.required && list.size === 0) this.issue("invalid_type", "Required");
    if (rule.maxItems !== undefined && list.size > rule.maxItems) {
      this.issue("too_big", `Array must contain at most ${rule.maxItems} element(s)`);
    }
    let i = 0;
    for (const v of list) {
      if (this.full()) return;
      this.path.push(i++);
      this.value(v, rule);
      this.path.pop();
    }
  }

  private map(map: ReflectMap, rule: FieldRule): void {
    if (rule.required && map.size === 0) this.issue("invalid_type", "Required");
    if (rule.maxItems !== undefined && map.size > rule.maxItems) {
      this.issue("too_big", `Map must contain at most ${rule.maxItems} entr(ies)`);
    }
    if (rule.child === undefined) return;
    for (const [k, v] of map) {
      if (this.full()) return;
      this.path.push(String(k));
      this.message(v as ReflectMessage, rule.child);
      this.path.pop();
    }
  }

  private value(v: unknown, rule: FieldRule): void {
    const field = rule.field;
    if (rule.child !== undefined && typeof v === "object" && v !== null && !(v instanceof Uint8Array)) {
      return this.message(v as ReflectMessage, rule.child);
    }
    if (typeof v === "string") return this.length([...v].length, rule, "String", "character(s)");
    if (v instanceof Uint8Array) return this.length(v.length, rule, "Bytes", "byte(s)");
    const scalar = (field as { scalar?: ScalarType }).scalar; // scalars and lists of scalars
    if (scalar === ScalarType.BOOL || scalar === undefined) return;
    if (typeof v === "number" || typeof v === "bigint") this.bounds(Number(v), rule);
  }

  private length(n: number, rule: FieldRule, noun: string, unit: string): void {
    if (rule.minLen !== undefined && n < rule.minLen) this.issue("too_small", `${noun} must contain at least ${rule.minLen} ${unit}`);
    if (rule.maxLen !== undefined && n > rule.maxLen) this.issue("too_big", `${noun} must contain at most ${rule.maxLen} ${unit}`);
  }

  private bounds(v: number, rule: FieldRule): void {
    if (Number.isNaN(v) && (rule.min !== undefined || rule.max !== undefined)) {
      return this.issue("invalid_type", "Expected number, received nan");
    }
    if (rule.min !== undefined && v < rule.min) this.issue("too_small", `Number must be greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && v > rule.max) this.issue("too_big", `Number must be less than or equal to ${rule.max}`);
  }
}

// The constraints `message` (of `schema`) fails; empty when it meets them all.
export function checkConstraints(schema: DescMessage, message: Message): ValidationIssue[] {
  const plan = planOf(schema);
  if (plan === null) return [];
  const checker = new Checker();
  checker.message(reflect(schema, message), plan);
  return checker.issues;
}

// "lines[2].qty: Number must be ... (and 1 more)": the server's summary of a list of issues.
export function summarize(issues: ValidationIssue[]): string {
  if (issues.length === 0) return "Validation failed";
  const first = issues[0];
  let path = "";
  for (const e of first.path) path += typeof e === "number" ? `[${e}]` : path === "" ? e : `.${e}`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return (path === "" ? first.message : `${path}: ${first.message}`) + more;
}
