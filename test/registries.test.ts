/**
 * Registry credentials: every pull goes through a docker provider whose secret `registryAuth`
 * covers exactly its registry, and no pull's input holds a credential; every push carries the login
 * of its own registry as a secret input that its diff ignores, so a rotated token changes no push.
 * (Mocks prove the shape; test/engine/stacks.test.ts logs in for real.)
 */
import * as assert from "assert";

import { TARGET_KINDS } from "../providers";
import { registryHost, registrySource } from "../registryAuth";
import { diffPush, type PushInputs } from "../registry/operations";
import { CREDENTIAL_INPUTS, PUSH, hex, providerOf, pushLoginOf, registryAuthOf, registryRef, reveal, runProgram, runProgramError, type ProgramRun } from "./mocks";

/** The config digest of the pinned image, as each registry's manifest of it names it. */
const PINNED_ID = `sha256:${hex("pinned")}`;
const ECR_REF = registryRef("210987654321.dkr.ecr.us-east-1.amazonaws.com/team/app", PINNED_ID);
const GAR_REF = registryRef("us-docker.pkg.dev/team-project/images/app", PINNED_ID);
const HEROKU_REF = registryRef("registry.heroku.com/shop-prod/web", PINNED_ID);
const OTHER_REF = registryRef("registry.example.com:5000/team/app", PINNED_ID);
const CLOUD = { "aws:region": "eu-west-1", "gcp:project": "onedigest-test", "gcp:region": "europe-west1", herokuApiKey: "hk-key" };

function pullAuth(run: ProgramRun): Array<Record<string, unknown>> {
    // The app's pull (a local target also pulls its Prometheus image, anonymously: localPrometheus.test.ts).
    const [pulled] = run.ofType("docker:index/remoteImage:RemoteImage").filter((r) => !r.name.endsWith("-prometheus-image"));
    for (const key of CREDENTIAL_INPUTS) assert.strictEqual(pulled.inputs[key], undefined, `the pull's inputs hold ${key}`);
    return registryAuthOf(providerOf(run.mocks, pulled));
}

describe("registries: where credentials come from", () => {
    it("reads the registry host of a reference as Docker does", () => {
        assert.strictEqual(registryHost(ECR_REF), "210987654321.dkr.ecr.us-east-1.amazonaws.com");
        assert.strictEqual(registryHost(OTHER_REF), "registry.example.com:5000");
        assert.strictEqual(registryHost(`localhost/app@${PINNED_ID}`), "localhost");
        assert.strictEqual(registryHost(`library/python@${PINNED_ID}`), "docker.io");
    });

    it("a configured login wins over the built-in kinds", () => {
        const configured = [{ address: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", username: "u", password: "p" }];
        assert.strictEqual(registrySource("123456789012.dkr.ecr.eu-west-1.amazonaws.com", { configured, herokuHost: "registry.heroku.com" }).kind, "configured");
        assert.deepStrictEqual(registrySource("123456789012.dkr.ecr.eu-west-1.amazonaws.com", { configured: [], herokuHost: "registry.heroku.com" }), { kind: "ecr", registryId: "123456789012", region: "eu-west-1" });
    });
});

describe("registries: a pinned image pulls with credentials for exactly its host", () => {
    it("ECR: a token of that registry, in the ref's region", async () => {
        const run = await runProgram({ targets: ["local"], image: { ref: ECR_REF } });
        assert.deepStrictEqual(pullAuth(run), [{ address: "123456789012.dkr.ecr.eu-west-1.amazonaws.com".replace("123456789012", "210987654321").replace("eu-west-1", "us-east-1"), username: "AWS", password: "ecr-password-from-token" }]);
        const token = run.mocks.invokes.find((i) => i.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken");
        assert.deepStrictEqual(token?.inputs, { registryId: "210987654321", region: "us-east-1" });
    });

    it("Artifact Registry: oauth2accesstoken and the caller's access token", async () => {
        const run = await runProgram({ targets: ["local"], image: { ref: GAR_REF } });
        assert.deepStrictEqual(pullAuth(run), [{ address: "us-docker.pkg.dev", username: "oauth2accesstoken", password: "ya29.short-lived-token" }]);
    });

    it("Heroku: _ and the API key", async () => {
        const run = await runProgram({ targets: ["local"], image: { ref: HEROKU_REF }, herokuApiKey: "hk-key" });
        assert.deepStrictEqual(pullAuth(run), [{ address: "registry.heroku.com", username: "_", password: "hk-key" }]);
    });

    it("any other registry: the secret onedigest:registryAuth entry for its host", async () => {
        const registryAuth = [
            { address: "ghcr.io", username: "someone", password: "ghp-other" },
            { address: "registry.example.com:5000", username: "deploy", password: "s3cret" },
        ];
        const run = await runProgram({ targets: ["local"], image: { ref: OTHER_REF }, registryAuth });
        assert.deepStrictEqual(pullAuth(run), [{ address: "registry.example.com:5000", username: "deploy", password: "s3cret" }]);
    });

    it("a public registry, when configured as one", async () => {
        const run = await runProgram({ targets: ["local"], image: { ref: OTHER_REF }, registryAuth: [{ address: "registry.example.com:5000", authDisabled: true }] });
        assert.deepStrictEqual(pullAuth(run), [{ address: "registry.example.com:5000", authDisabled: true }]);
    });
});

describe("registries: bad or missing credentials, before any resource", () => {
    const cases: Array<[string, Record<string, unknown>, string, { plainKeys?: string[] }?]> = [
        [
            "an unknown private host without credentials",
            { targets: ["local"], image: { ref: OTHER_REF } },
            "onedigest:registryAuth: got (not set); expected credentials for registry.example.com:5000, which onedigest:image.ref pulls from (a secret list of {address, username, password}, or {address, authDisabled: true} for a public registry; ECR, Artifact Registry and Heroku need none). Fix: pulumi config rm onedigest:registryAuth && pulumi config set --secret --path 'onedigest:registryAuth[0].address' registry.example.com:5000 && pulumi config set --secret --path 'onedigest:registryAuth[0].username' '<user>' && pulumi config set --secret --path 'onedigest:registryAuth[0].password' '<token>'",
        ],
        [
            "a Heroku ref without an API key",
            { targets: ["local"], image: { ref: HEROKU_REF } },
            "onedigest:herokuApiKey: got (not set); expected a Heroku API key (secret) to pull from registry.heroku.com, or the HEROKU_API_KEY environment variable. Fix: pulumi config set --secret onedigest:herokuApiKey <key>",
        ],
        [
            "credentials in plain config",
            { targets: ["local"], image: { ref: OTHER_REF }, registryAuth: [{ address: "registry.example.com:5000", username: "deploy", password: "s3cret" }] },
            "onedigest:registryAuth: got a value (not shown: it holds credentials); expected a secret value: registry credentials are never stored in plain config. Fix: pulumi config rm onedigest:registryAuth && pulumi config set --secret --path 'onedigest:registryAuth[0].address' registry.example.com && pulumi config set --secret --path 'onedigest:registryAuth[0].username' deploy && pulumi config set --secret --path 'onedigest:registryAuth[0].password' '<token>'",
            { plainKeys: ["onedigest:registryAuth"] },
        ],
        [
            "an entry without a password",
            { targets: ["local"], registryAuth: [{ address: "registry.example.com", username: "deploy" }] },
            "onedigest:registryAuth[0]: got a value (not shown: it holds credentials); expected {address: <registry host[:port]>, username, password} or {address, authDisabled: true}. Fix: pulumi config rm --path 'onedigest:registryAuth[0]' && pulumi config set --secret --path 'onedigest:registryAuth[0].address' registry.example.com && pulumi config set --secret --path 'onedigest:registryAuth[0].username' deploy && pulumi config set --secret --path 'onedigest:registryAuth[0].password' '<token>'",
        ],
    ];
    for (const [what, config, message, options] of cases) {
        it(what, async () => {
            delete process.env.HEROKU_API_KEY;
            const result = await runProgramError(config, options ?? {});
            assert.strictEqual(result.message, message);
            assert.deepStrictEqual(result.resources, []);
        });
    }

    it("a promotion from a registry the stack cannot log in to fails naming the key, having only read the other stack", async () => {
        const { message, resources } = await runProgramError(
            { targets: ["local"], image: { promoteFrom: "dev" } },
            { stacks: { "organization/onedigest/dev": { imageId: PINNED_ID, deployments: { x: { image: OTHER_REF } } } } },
        );
        assert.match(message, /^onedigest:registryAuth: got \(not set\); expected credentials for registry\.example\.com:5000, which promotion from organization\/onedigest\/dev pulls from/);
        // The first line is the program's, not a serialization error of the pull; nothing was created.
        assert.deepStrictEqual(resources.map((r) => r.type), ["pulumi:pulumi:StackReference"]);
    });

    it("a promotion from a stack that exports no image stops before any resource, naming the stack", async () => {
        const { message, resources } = await runProgramError({ targets: ["local"], image: { promoteFrom: "dev" } }, { stacks: { "organization/onedigest/dev": { imageId: `sha256:${hex("id")}`, deployments: {} } } });
        assert.strictEqual(message, "promotion refused: organization/onedigest/dev exports no deployment with a registry image (repo@sha256:…) to promote");
        assert.deepStrictEqual(resources.map((r) => r.type), ["pulumi:pulumi:StackReference"]);
    });

    it("a promotion from ECR pulls with that registry's token", async () => {
        const run = await runProgram({ targets: ["local"], image: { promoteFrom: "dev" } }, { stacks: { "organization/onedigest/dev": { imageId: PINNED_ID, deployments: { "aws-ecs": { image: ECR_REF } } } } });
        assert.deepStrictEqual(pullAuth(run).map((l) => [l.address, l.username]), [["210987654321.dkr.ecr.us-east-1.amazonaws.com", "AWS"]]);
    });
});

describe("registries: each push logs in to its own registry, and a rotated token changes no push", () => {
    const rotated = (password: string) => ({
        "aws:ecr/getAuthorizationToken:getAuthorizationToken": () => ({
            userName: "AWS",
            password,
            proxyEndpoint: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            registryId: "123456789012",
            authorizationToken: "",
            expiresAt: "",
        }),
        "gcp:organizations/getClientConfig:getClientConfig": () => ({ accessToken: `ya29.${password}`, project: "p", region: "r", zone: "z", id: "x" }),
    });

    it("each push carries the login of its own registry only, as a secret", async () => {
        const run = await runProgram({ targets: [...TARGET_KINDS], ...CLOUD });
        const pushes = run.ofType(PUSH);
        assert.strictEqual(pushes.length, 3, "ECR (shared by ECS and Beanstalk), Artifact Registry, Heroku");
        const hosts = pushes.map((push) => {
            const login = pushLoginOf(push);
            assert.ok(String(push.inputs.repository).startsWith(`${String(login.server)}/`), `${push.name} pushes to ${String(push.inputs.repository)} with a login for ${String(login.server)}`);
            return login.server;
        });
        assert.deepStrictEqual(hosts.sort(), ["123456789012.dkr.ecr.eu-west-1.amazonaws.com", "europe-west1-docker.pkg.dev", "registry.heroku.com"]);
        assert.deepStrictEqual(run.ofType("docker:index/registryImage:RegistryImage"), [], "no push goes through the docker provider");
    });

    it("a second evaluation with rotated tokens changes only the pushes' passwords, which their diff ignores", async () => {
        const first = await runProgram({ targets: [...TARGET_KINDS], ...CLOUD }, { invokes: rotated("token-one") });
        const second = await runProgram({ targets: [...TARGET_KINDS], ...CLOUD }, { invokes: rotated("token-two") });
        const pushes = (run: ProgramRun) => run.ofType(PUSH).map((r) => reveal(r.inputs) as unknown as PushInputs);
        const [before, after] = [pushes(first), pushes(second)];
        assert.strictEqual(after.length, 3);
        after.forEach((news, i) => {
            const olds = before[i];
            const changed = Object.keys(news).filter((k) => JSON.stringify(news[k as keyof PushInputs]) !== JSON.stringify(olds[k as keyof PushInputs]));
            // Heroku's login is the API key, which does not rotate with the cloud tokens.
            assert.ok(changed.length === 0 || (changed.length === 1 && changed[0] === "password"), `${news.repository}: ${changed.join(", ")} changed`);
            assert.deepStrictEqual(diffPush(olds, news), { changes: false, replaces: [] });
        });
        assert.ok(after.some((news, i) => news.password !== before[i].password), "the rotated tokens reached the pushes");
    });
});
