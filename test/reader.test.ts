/**
 * validate.ts's Reader, method by method: what each accepts, and the exact problem (key, value,
 * what is allowed, the fix) it records for what it refuses.
 */
import * as assert from "assert";

import { ConfigError, Reader, configPaths, formatProblem, mergeDefaults, setCommand, type Problem } from "../validate";

const NAME = { pattern: /^[a-z]+$/, allowed: "lower-case letters" };

/** Reads `record` under onedigest:t with `read`; returns what it read and the problems as lines. */
function read<T>(record: unknown, fn: (r: Reader) => T): { value: T; problems: string[] } {
    const problems: Problem[] = [];
    const value = fn(new Reader("onedigest:t", record, problems));
    return { value, problems: problems.map(formatProblem) };
}

describe("validate: Reader", () => {
    it("an object or nothing; anything else is one problem and an empty record", () => {
        assert.deepStrictEqual(read(undefined, (r) => r.record), { value: {}, problems: [] });
        assert.deepStrictEqual(read(["a"], (r) => r.record), {
            value: {},
            problems: [`onedigest:t: got ["a"]; expected an object. Fix: pulumi config rm onedigest:t`],
        });
        assert.deepStrictEqual(read("x", (r) => r.child("c").record), {
            value: {},
            problems: [`onedigest:t: got "x"; expected an object. Fix: pulumi config rm onedigest:t`],
        });
        assert.deepStrictEqual(read({ c: 5 }, (r) => r.child("c").record), {
            value: {},
            problems: [`onedigest:t.c: got 5; expected an object. Fix: pulumi config rm --path onedigest:t.c`],
        });
    });

    it("requiredString: missing, wrong type, wrong pattern", () => {
        assert.deepStrictEqual(read({}, (r) => r.requiredString("s", "abc")), { value: "", problems: [`onedigest:t.s: got (not set); expected a string. Fix: pulumi config set --path onedigest:t.s abc`] });
        assert.deepStrictEqual(read({ s: null }, (r) => r.requiredString("s", "abc", NAME)), { value: "", problems: [`onedigest:t.s: got (not set); expected lower-case letters. Fix: pulumi config set --path onedigest:t.s abc`] });
        assert.deepStrictEqual(read({ s: 1 }, (r) => r.requiredString("s", "abc")), { value: "", problems: [`onedigest:t.s: got 1; expected a string. Fix: pulumi config set --path onedigest:t.s abc`] });
        assert.deepStrictEqual(read({ s: 1 }, (r) => r.requiredString("s", "abc", NAME)), { value: "", problems: [`onedigest:t.s: got 1; expected lower-case letters. Fix: pulumi config set --path onedigest:t.s abc`] });
        assert.deepStrictEqual(read({ s: "A" }, (r) => r.requiredString("s", "abc", NAME)), { value: "", problems: [`onedigest:t.s: got "A"; expected lower-case letters. Fix: pulumi config set --path onedigest:t.s abc`] });
        assert.deepStrictEqual(read({ s: "ok" }, (r) => r.requiredString("s", "abc", NAME)), { value: "ok", problems: [] });
    });

    it("requiredInteger: missing, out of range, not an integer", () => {
        assert.deepStrictEqual(read({}, (r) => r.requiredInteger("n", 1, 9, 5)), { value: 5, problems: [`onedigest:t.n: got (not set); expected an integer from 1 to 9. Fix: pulumi config set --path onedigest:t.n 5`] });
        assert.deepStrictEqual(read({ n: 10 }, (r) => r.requiredInteger("n", 1, 9, 5)), { value: 5, problems: [`onedigest:t.n: got 10; expected an integer from 1 to 9. Fix: pulumi config set --path onedigest:t.n 5`] });
        assert.deepStrictEqual(read({ n: 0 }, (r) => r.requiredInteger("n", 1, 9, 5)).problems.length, 1);
        assert.deepStrictEqual(read({ n: 1.5 }, (r) => r.requiredInteger("n", 1, 9, 5)).problems.length, 1);
        assert.deepStrictEqual(read({ n: 1 }, (r) => r.requiredInteger("n", 1, 9, 5)), { value: 1, problems: [] });
        assert.deepStrictEqual(read({ n: 9 }, (r) => r.requiredInteger("n", 1, 9, 5)), { value: 9, problems: [] });
    });

    it("boolean, oneOf, numberOneOf", () => {
        assert.deepStrictEqual(read({ b: "true" }, (r) => r.boolean("b", true)), { value: undefined, problems: [`onedigest:t.b: got "true"; expected true or false. Fix: pulumi config set --path onedigest:t.b true`] });
        assert.deepStrictEqual(read({ b: false }, (r) => r.boolean("b", true)), { value: false, problems: [] });
        assert.deepStrictEqual(read({ o: "c" }, (r) => r.oneOf("o", ["a", "b"], "a")), { value: undefined, problems: [`onedigest:t.o: got "c"; expected one of a, b. Fix: pulumi config set --path onedigest:t.o a`] });
        assert.deepStrictEqual(read({ o: 1 }, (r) => r.oneOf("o", ["a", "b"], "a")).problems.length, 1);
        assert.deepStrictEqual(read({ o: "b" }, (r) => r.oneOf("o", ["a", "b"], "a")), { value: "b", problems: [] });
        assert.deepStrictEqual(read({ d: 2 }, (r) => r.numberOneOf("d", [1, 7], 7)), { value: undefined, problems: [`onedigest:t.d: got 2; expected one of 1, 7. Fix: pulumi config set --path onedigest:t.d 7`] });
        assert.deepStrictEqual(read({ d: "7" }, (r) => r.numberOneOf("d", [1, 7], 7)).problems.length, 1);
        assert.deepStrictEqual(read({ d: 7 }, (r) => r.numberOneOf("d", [1, 7], 7)), { value: 7, problems: [] });
    });

    it("stringMap: an object of strings under names matching the key pattern", () => {
        const map = (record: unknown) => read(record, (r) => r.stringMap("m", /^[A-Z]+$/, "upper-case letters"));
        assert.deepStrictEqual(map({}), { value: {}, problems: [] });
        assert.deepStrictEqual(map({ m: ["A"] }), { value: {}, problems: [`onedigest:t.m: got ["A"]; expected an object of string values. Fix: pulumi config rm --path onedigest:t.m && pulumi config set --path onedigest:t.m.EXAMPLE value`] });
        // A number or a boolean is what `pulumi config set --path` stores for "3" or "true": its text.
        assert.deepStrictEqual(map({ m: { A: "1", b: "2", C: 3, D: true, E: { x: 1 } } }), {
            value: { A: "1", C: "3", D: "true" },
            problems: [
                `onedigest:t.m.b: got "b"; expected upper-case letters. Fix: pulumi config set --path onedigest:t.m.b value`,
                `onedigest:t.m.E: got {"x":1}; expected a string. Fix: pulumi config set --path onedigest:t.m.E value`,
            ],
        });
    });

    it("stringList: a list of strings, each checked", () => {
        const list = (record: unknown, check?: typeof NAME) => read(record, (r) => r.stringList("l", "abc", check));
        assert.deepStrictEqual(list({}), { value: undefined, problems: [] });
        assert.deepStrictEqual(list({ l: "abc" }), { value: undefined, problems: [`onedigest:t.l: got "abc"; expected a list of strings. Fix: pulumi config rm --path onedigest:t.l && pulumi config set --path 'onedigest:t.l[0]' abc`] });
        assert.deepStrictEqual(list({ l: ["x", 2] }), { value: ["x"], problems: [`onedigest:t.l[1]: got 2; expected a string. Fix: pulumi config set --path 'onedigest:t.l[1]' abc`] });
        assert.deepStrictEqual(list({ l: ["ok", "No", 2] }, NAME), {
            value: ["ok"],
            problems: [
                `onedigest:t.l[1]: got "No"; expected lower-case letters. Fix: pulumi config set --path 'onedigest:t.l[1]' abc`,
                `onedigest:t.l[2]: got 2; expected lower-case letters. Fix: pulumi config set --path 'onedigest:t.l[2]' abc`,
            ],
        });
    });

    it("null is not set, for every kind of field", () => {
        const nulls = { s: null, n: null, b: null, o: null, d: null, m: null, l: null };
        assert.deepStrictEqual(
            read(nulls, (r) => [r.string("s", "x"), r.integer("n", 1, 9, 5), r.boolean("b", true), r.oneOf("o", ["a"], "a"), r.numberOneOf("d", [1], 1), r.stringMap("m", /^[A-Z]+$/, "upper"), r.stringList("l", "x")]),
            { value: [undefined, undefined, undefined, undefined, undefined, {}, undefined], problems: [] },
        );
        assert.deepStrictEqual(read({}, (r) => [r.integer("n", 1, 9, 5), r.has("n")]), { value: [undefined, false], problems: [] });
        assert.deepStrictEqual(read({ n: null }, (r) => r.has("n")), { value: false, problems: [] });
    });

    it("rejectUnknown names each unknown field with the known ones", () => {
        assert.deepStrictEqual(read({ a: 1, zz: 2 }, (r) => r.rejectUnknown(["a", "b"])).problems, [`onedigest:t.zz: got 2; expected one of the fields a, b. Fix: pulumi config rm --path onedigest:t.zz`]);
    });
});

describe("validate: fix commands", () => {
    it("a null example is a plain value; a leaf of null is kept as a leaf", () => {
        assert.strictEqual(setCommand("onedigest:x", null), "pulumi config set onedigest:x null");
        assert.deepStrictEqual(configPaths("k", null), [["k", null]]);
        assert.deepStrictEqual(configPaths("k", { a: [1, { b: null }] }), [["k.a[0]", 1], ["k.a[1].b", null]]);
    });
});

describe("validate: ConfigError and mergeDefaults", () => {
    it("one problem is the message; several are counted, one per line", () => {
        const p: Problem = { key: "k", value: undefined, allowed: "x", fix: "f" };
        assert.strictEqual(new ConfigError([p]).message, "k: got (not set); expected x. Fix: f");
        assert.strictEqual(new ConfigError([p, { ...p, value: "s", shown: "a value" }]).message, "2 configuration problems:\nk: got (not set); expected x. Fix: f\nk: got a value; expected x. Fix: f");
        assert.strictEqual(new ConfigError([p]).name, "ConfigError");
    });

    it("merges objects deeply; lists, scalars and nulls do not merge", () => {
        assert.deepStrictEqual(mergeDefaults({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: 3 }, l: [9] }), { a: { b: 1, c: 3 }, l: [9] });
        assert.deepStrictEqual(mergeDefaults({ a: 1 }, null), { a: 1 });
        assert.deepStrictEqual(mergeDefaults(undefined, { a: 1 }), { a: 1 });
        assert.strictEqual(mergeDefaults({ a: 1 }, "x"), "x");
    });
});

describe("validate: values as `pulumi config set --path` stores them", () => {
    it("oneOf takes a number or boolean whose text is allowed, and names a wrong one as given", () => {
        const problems: Problem[] = [];
        const r = new Reader("onedigest:t", { a: 2, b: 3, c: "2" }, problems);
        assert.strictEqual(r.oneOf("a", ["1", "2"] as const, "1"), "2");
        assert.strictEqual(r.oneOf("c", ["1", "2"] as const, "1"), "2");
        assert.strictEqual(r.oneOf("b", ["1", "2"] as const, "1"), undefined);
        assert.deepStrictEqual(problems.map(formatProblem), ["onedigest:t.b: got 3; expected one of 1, 2. Fix: pulumi config set --path --type string onedigest:t.b 1"]);
    });

    it("a fix that sets a string the CLI would store as a number or a boolean says --type string; other values do not", () => {
        assert.strictEqual(setCommand("onedigest:app.env.FORCE_HTTPS", "1"), "pulumi config set --path --type string onedigest:app.env.FORCE_HTTPS 1");
        assert.strictEqual(setCommand("onedigest:app.env.DEBUG", "false"), "pulumi config set --path --type string onedigest:app.env.DEBUG false");
        assert.strictEqual(setCommand("onedigest:local.port", 8080), "pulumi config set --path onedigest:local.port 8080");
        assert.strictEqual(setCommand("onedigest:cloudrun.memory", "512Mi"), "pulumi config set --path onedigest:cloudrun.memory 512Mi");
        // Without --path the CLI keeps every value a string.
        assert.strictEqual(setCommand("onedigest:secretKey", "1"), "pulumi config set onedigest:secretKey 1");
    });
});
