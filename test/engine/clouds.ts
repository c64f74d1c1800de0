/**
 * The fake clouds for one real-engine test file: a PULUMI_HOME of its own holding the suite's
 * Docker provider plugin and the fake `aws` and `gcp` provider plugins (test/engine/fakes), a
 * directory for the fakes' state, and the environment the Pulumi CLI needs to use them. The test
 * reads the fake clouds' state through `state()` for its assertions.
 *
 *   const clouds = await FakeClouds.start(scratch);
 *   const env = cliEnv(backend, clouds.env());
 *   …
 *   clouds.state("gcp").tables["artifactregistry.repositories"]
 *   await clouds.stop();
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { ROOT } from "../mocks";
import { Store, type StoreData } from "./fakes/framework";
import { ok, run } from "./cli";

/** The versions the fakes are installed as: the SDKs' (node_modules/@pulumi/aws, @pulumi/gcp). */
export const FAKE_PLUGINS = { aws: "7.48.0", gcp: "9.37.0" } as const;
export type FakeCloud = keyof typeof FAKE_PLUGINS;

/** The suite's Docker provider plugin (scripts/docker-plugin.sh installs it into PULUMI_HOME). */
const DOCKER_PLUGIN = "resource-docker-v5.2.0";

/** The PULUMI_HOME this process runs with, where the suite installed the Docker plugin. */
export function suitePulumiHome(env: NodeJS.ProcessEnv = process.env): string {
    return env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi");
}

/**
 * Makes `home` a PULUMI_HOME with the suite's Docker plugin (a symlink to it in `from`) and the two
 * fakes, installed as the engine installs any plugin (`pulumi plugin install … --file`).
 */
export async function makePulumiHome(home: string, from: string = suitePulumiHome()): Promise<void> {
    const docker = path.join(from, "plugins", DOCKER_PLUGIN);
    if (!fs.existsSync(path.join(docker, "pulumi-resource-docker"))) {
        throw new Error(`no ${DOCKER_PLUGIN} in ${from}/plugins: install it with bash scripts/docker-plugin.sh "${from}"`);
    }
    fs.mkdirSync(path.join(home, "plugins"), { recursive: true });
    fs.symlinkSync(docker, path.join(home, "plugins", DOCKER_PLUGIN));
    const env = { ...process.env, PULUMI_HOME: home, PULUMI_SKIP_UPDATE_CHECK: "true" };
    for (const [cloud, version] of Object.entries(FAKE_PLUGINS)) {
        const launcher = path.join(ROOT, "test", "engine", "fakes", "bin", cloud);
        ok(await run("pulumi", ["plugin", "install", "resource", cloud, `v${version}`, "--file", launcher], { cwd: home, env }), `pulumi plugin install resource ${cloud} v${version}`);
    }
}

export class FakeClouds {
    private constructor(
        /** The PULUMI_HOME the CLI gets. */
        readonly home: string,
        /** Where the fakes keep their state: one JSON store per cloud. */
        readonly storeDir: string,
        private readonly scratch: string,
        private readonly ownsScratch: boolean,
    ) {}

    /** A PULUMI_HOME with the fakes and an empty store, under `scratch` (a temporary directory when not given). */
    static async start(scratch?: string): Promise<FakeClouds> {
        const dir = scratch ?? fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-clouds-"));
        const home = path.join(dir, "pulumi-home");
        const storeDir = path.join(dir, "clouds");
        fs.mkdirSync(storeDir, { recursive: true });
        await makePulumiHome(home);
        return new FakeClouds(home, storeDir, dir, scratch === undefined);
    }

    /** What the CLI's environment needs (pass to cliEnv): the PULUMI_HOME and where the fakes find their code and state. */
    env(): NodeJS.ProcessEnv {
        return { PULUMI_HOME: this.home, ONEDIGEST_FAKES_ROOT: ROOT, ONEDIGEST_FAKE_STORE: this.storeDir };
    }

    /** A fake cloud's state as it is now. */
    state(cloud: FakeCloud): StoreData {
        return this.store(cloud).snapshot();
    }

    /** One table of a fake cloud's state: records by key. */
    table<T = Record<string, unknown>>(cloud: FakeCloud, name: string): Record<string, T> {
        return (this.state(cloud).tables[name] ?? {}) as Record<string, T>;
    }

    /** Moves a fake cloud's clock forward (for rules that hold a name for a period). */
    advanceClock(cloud: FakeCloud, ms: number): void {
        this.store(cloud).transact((db) => db.advanceClock(ms));
    }

    async stop(): Promise<void> {
        if (this.ownsScratch) fs.rmSync(this.scratch, { recursive: true, force: true });
    }

    private store(cloud: FakeCloud): Store {
        return new Store(path.join(this.storeDir, `${cloud}.json`));
    }
}
