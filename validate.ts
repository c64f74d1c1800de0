/**
 * Small validation for stack config, with no dependency beyond the Pulumi SDK. Every problem names
 * the full key, the bad value, what is allowed and the `pulumi config set …` command that fixes it;
 * all problems are collected and reported together before any resource is registered.
 */
import { RunError } from "@pulumi/pulumi";

export const PROJECT = "onedigest";

/** One bad value. `fix` is the exact command line that repairs it. */
export interface Problem {
    readonly key: string;
    readonly value: unknown;
    readonly allowed: string;
    readonly fix: string;
    /** How to show the value when it must not be printed. */
    readonly shown?: string;
}

export function formatProblem(p: Problem): string {
    const shown = p.shown ?? (p.value === undefined ? "(not set)" : JSON.stringify(p.value));
    return `${p.key}: got ${shown}; expected ${p.allowed}. Fix: ${p.fix}`;
}

/**
 * Thrown once with every problem found; the message lists them one per line. A RunError, so the
 * Pulumi CLI shows the message alone, without a stack trace or the object dumped after it.
 */
export class ConfigError extends RunError {
    constructor(readonly problems: readonly Problem[]) {
        super(
            problems.length === 1
                ? formatProblem(problems[0])
                : `${problems.length} configuration problems:\n` + problems.map(formatProblem).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** Quote a shell word only when it needs it. */
export function shellWord(word: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Every leaf of a value as [path, scalar], the way `pulumi config set --path` addresses it:
 * `configPaths("k", ["a", "b"])` → `[["k[0]", "a"], ["k[1]", "b"]]`.
 */
export function configPaths(key: string, value: unknown): Array<[string, unknown]> {
    if (Array.isArray(value)) return value.flatMap((v, i) => configPaths(`${key}[${i}]`, v));
    if (isRecord(value)) return Object.entries(value).flatMap(([k, v]) => configPaths(`${key}.${k}`, v));
    return [[key, value]];
}

/**
 * The command that sets `key` (a full key, maybe with a path) to `example`. The CLI sets lists and
 * objects only element by element (`--path`), so those become `pulumi config rm` of the key followed
 * by one `--path` set per element.
 */
export function setCommand(key: string, example: unknown, opts: { secret?: boolean } = {}): string {
    if (typeof example === "object" && example !== null) {
        return [`pulumi config rm${/[.[]/.test(key.slice(key.indexOf(":") + 1)) ? " --path" : ""} ${shellWord(key)}`, ...configPaths(key, example).map(([path, v]) => setCommand(path, v, opts))].join(" && ");
    }
    const isPath = /[.[]/.test(key.slice(key.indexOf(":") + 1));
    const value = String(example);
    // With --path the CLI stores "true", "false" and integers as a bool or a number; a string stays one
    // only when told (--type string).
    const asString = isPath && typeof example === "string" && /^(true|false|-?\d+)$/.test(example);
    const flags = [opts.secret ? "--secret" : "", isPath ? "--path" : "", asString ? "--type string" : ""].filter(Boolean).join(" ");
    return ["pulumi config set", flags, shellWord(key), shellWord(value)].filter(Boolean).join(" ");
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads one config object (`onedigest:app`, `onedigest:ecs`, …) field by field, recording problems
 * instead of throwing so the caller can report them all.
 */
export class Reader {
    readonly record: Record<string, unknown>;

    constructor(
        readonly key: string,
        value: unknown,
        private readonly problems: Problem[],
    ) {
        if (value !== undefined && !isRecord(value)) {
            this.fail("", value, "an object", {});
            this.record = {};
        } else {
            this.record = value ?? {};
        }
    }

    /** Full key of a field, e.g. `onedigest:app.port`. */
    path(field: string): string {
        return field ? `${this.key}.${field}` : this.key;
    }

    /** Records a problem whose fix is `pulumi config set <field> <example>`. */
    fail(field: string, value: unknown, allowed: string, example: unknown, opts: { secret?: boolean } = {}): undefined {
        return this.report(field, value, allowed, setCommand(this.path(field), example, opts));
    }

    /** Records a problem about another key (e.g. a secret the target needs). */
    reportKey(key: string, value: unknown, allowed: string, fix: string): undefined {
        this.problems.push({ key, value, allowed, fix });
        return undefined;
    }

    /** Records a problem with its own fix command; `shown` stands for a value that must not be printed. */
    report(field: string, value: unknown, allowed: string, fix: string, shown?: string): undefined {
        this.problems.push({ key: this.path(field), value, allowed, fix, ...(shown === undefined ? {} : { shown }) });
        return undefined;
    }

    /** Problems for fields this target does not know (typos must not be silently ignored). */
    rejectUnknown(known: readonly string[]): void {
        for (const field of Object.keys(this.record)) {
            if (!known.includes(field)) {
                this.report(field, this.record[field], `one of the fields ${known.join(", ")}`, `pulumi config rm --path ${shellWord(this.path(field))}`);
            }
        }
    }

    has(field: string): boolean {
        return this.record[field] !== undefined && this.record[field] !== null;
    }

    string(field: string, example: string, check?: { pattern: RegExp; allowed: string }): string | undefined {
        const value = this.record[field];
        if (value === undefined || value === null) return undefined;
        if (typeof value !== "string") return this.fail(field, value, check?.allowed ?? "a string", example);
        if (check && !check.pattern.test(value)) return this.fail(field, value, check.allowed, example);
        return value;
    }

    requiredString(field: string, example: string, check?: { pattern: RegExp; allowed: string }): string {
        if (!this.has(field)) {
            this.fail(field, undefined, check?.allowed ?? "a string", example);
            return "";
        }
        return this.string(field, example, check) ?? "";
    }

    integer(field: string, min: number, max: number, example: number): number | undefined {
        const value = this.record[field];
        if (value === undefined || value === null) return undefined;
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
            return this.fail(field, value, `an integer from ${min} to ${max}`, example);
        }
        return value;
    }

    requiredInteger(field: string, min: number, max: number, example: number): number {
        if (!this.has(field)) {
            this.fail(field, undefined, `an integer from ${min} to ${max}`, example);
            return example;
        }
        return this.integer(field, min, max, example) ?? example;
    }

    /** A number from `min` to `max`, fractions allowed (a percentage such as 0.5). */
    number(field: string, min: number, max: number, example: number): number | undefined {
        const value = this.record[field];
        if (value === undefined || value === null) return undefined;
        // `pulumi config set --path … 2.5` stores the string "2.5" (only integers become numbers).
        const parsed = typeof value === "string" && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
        if (typeof parsed !== "number" || !Number.isFinite(parsed) || parsed < min || parsed > max) {
            return this.fail(field, value, `a number from ${min} to ${max}`, example);
        }
        return parsed;
    }

    boolean(field: string, example: boolean): boolean | undefined {
        const value = this.record[field];
        if (value === undefined || value === null) return undefined;
        if (typeof value !== "boolean") return this.fail(field, value, "true or false", example);
        return value;
    }

    oneOf<T extends string>(field: string, allowed: readonly T[], example: T): T | undefined {
        const value = this.record[field];
        if (value === undefined || value === null) return undefined;
        // `pulumi config set --path … 2` stores the number 2: a value that reads as one of them is it.
        const text = typeof value === "number" || typeof value === "boolean" ? String(value) : value;
        if (typeof text !== "string" || !(allowed as readonly string[]).includes(text)) {
            return this.fail(field, value, `one of ${allowed.join(", ")}`, example);
        }
        return text as T;
    }

    numberOneOf(field: string, allowed: readonly number[], example: number): number | undefined {
        const value = this.record[field];
        if (value === undefined || value === null) return undefined;
        if (typeof value !== "number" || !allowed.includes(value)) return this.fail(field, value, `one of ${allowed.join(", ")}`, example);
        return value;
    }

    /** A flat map of string → string (e.g. environment variables). */
    stringMap(field: string, keyPattern: RegExp, keyRule: string): Readonly<Record<string, string>> {
        const value = this.record[field];
        if (value === undefined || value === null) return {};
        if (!isRecord(value)) {
            this.fail(field, value, "an object of string values", { EXAMPLE: "value" });
            return {};
        }
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(value)) {
            if (!keyPattern.test(k)) {
                this.fail(`${field}.${k}`, k, keyRule, "value");
            } else if (typeof v === "number" || typeof v === "boolean") {
                // `pulumi config set --path … 1` stores the number 1; an environment variable is its text.
                out[k] = String(v);
            } else if (typeof v !== "string") {
                this.fail(`${field}.${k}`, v, "a string", typeof v === "object" && v !== null && !Array.isArray(v) ? "value" : String(v));
            } else {
                out[k] = v;
            }
        }
        return out;
    }

    stringList(field: string, example: string, check?: { pattern: RegExp; allowed: string }): readonly string[] | undefined {
        const value = this.record[field];
        if (value === undefined || value === null) return undefined;
        if (!Array.isArray(value)) return this.fail(field, value, "a list of strings", [example]);
        const out: string[] = [];
        value.forEach((item: unknown, i: number) => {
            if (typeof item !== "string" || (check && !check.pattern.test(item))) {
                this.fail(`${field}[${i}]`, item, check?.allowed ?? "a string", example);
            } else {
                out.push(item);
            }
        });
        return out;
    }

    /** A nested object, read with its own Reader. */
    child(field: string): Reader {
        return new Reader(this.path(field), this.record[field], this.problems);
    }
}

/** Deep-merge `over` onto `base` (objects only; arrays and scalars in `over` replace). */
export function mergeDefaults(base: unknown, over: unknown): unknown {
    if (over === undefined || over === null) return base;
    if (isRecord(base) && isRecord(over)) {
        const out: Record<string, unknown> = { ...base };
        for (const [k, v] of Object.entries(over)) out[k] = mergeDefaults(base[k], v);
        return out;
    }
    return over;
}
