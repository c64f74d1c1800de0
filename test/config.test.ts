import * as assert from "assert";
import { generateKeyPairSync } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { loadConfig, projectDefaults } from "../config";
import { configError, sources } from "./helpers";
import { runProgramError } from "./mocks";

describe("config: defaults", () => {
    it("come from Pulumi.yaml's config block and fill what a stack leaves out", () => {
        const defaults = projectDefaults();
        assert.deepStrictEqual(defaults.targets, ["local"]);
        const config = loadConfig(sources({ app: { name: "shop" }, local: { port: 9000 } }));
        assert.deepStrictEqual(config.targets, ["local"]);
        assert.deepStrictEqual(config.app, { name: "shop", description: "onedigest Flask app", port: 8080, env: {} });
        assert.deepStrictEqual(config.settings.local, { port: 9000, restart: "unless-stopped", memoryMb: 512, prometheusPort: 9090, scrapeSeconds: 15 });
        assert.deepStrictEqual(config.image, { source: "build", platform: "linux/amd64" });
    });
});

describe("config: bad input, exact messages", () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
        [
            "unknown target kind",
            { targets: ["local", "aws-lambda"] },
            `onedigest:targets[1]: got "aws-lambda"; expected one of local, heroku, aws-ecs, aws-beanstalk, aws-ecs-express, gcp-cloudrun. Fix: pulumi config set --path 'onedigest:targets[1]' local`,
        ],
        [
            "empty targets",
            { targets: [] },
            `onedigest:targets: got []; expected a non-empty list of distinct target kinds from local, heroku, aws-ecs, aws-beanstalk, aws-ecs-express, gcp-cloudrun. Fix: pulumi config rm onedigest:targets && pulumi config set --path 'onedigest:targets[0]' local`,
        ],
        [
            "targets not a list",
            { targets: "local" },
            `onedigest:targets: got "local"; expected a non-empty list of distinct target kinds from local, heroku, aws-ecs, aws-beanstalk, aws-ecs-express, gcp-cloudrun. Fix: pulumi config rm onedigest:targets && pulumi config set --path 'onedigest:targets[0]' local`,
        ],
        [
            "duplicate target",
            { targets: ["local", "local"] },
            `onedigest:targets[1]: got "local"; expected each target kind at most once. Fix: pulumi config rm onedigest:targets && pulumi config set --path 'onedigest:targets[0]' local`,
        ],
        [
            "app name not DNS-safe",
            { app: { name: "My_App" } },
            `onedigest:app.name: got "My_App"; expected a DNS-safe name: 1-32 characters of a-z, 0-9 and '-', starting with a letter, not ending with '-'. Fix: pulumi config set --path onedigest:app.name myapp`,
        ],
        [
            "port out of range",
            { app: { port: 70000 } },
            `onedigest:app.port: got 70000; expected an integer from 1024 to 65535. Fix: pulumi config set --path onedigest:app.port 8080`,
        ],
        [
            "a string where a number is expected",
            { app: { port: "8080" } },
            `onedigest:app.port: got "8080"; expected an integer from 1024 to 65535. Fix: pulumi config set --path onedigest:app.port 8080`,
        ],
        [
            "a number where a string is expected",
            { app: { description: 42 } },
            `onedigest:app.description: got 42; expected a string. Fix: pulumi config set --path onedigest:app.description 'My app'`,
        ],
        [
            "malformed image.ref",
            { image: { ref: "registry.example.com/app:latest" } },
            `onedigest:image.ref: got "registry.example.com/app:latest"; expected an image reference pinned by digest: repo@sha256:<64 hex>. Fix: pulumi config set --path onedigest:image.ref 'registry.example.com/app@sha256:<64 hex>'`,
        ],
        [
            "image.ref together with image.promoteFrom",
            { image: { ref: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:${"a".repeat(64)}`, promoteFrom: "acme/onedigest/dev" } },
            `onedigest:image.promoteFrom: got "acme/onedigest/dev"; expected not both onedigest:image.ref and onedigest:image.promoteFrom: pin an image or promote one, not both. Fix: pulumi config rm --path onedigest:image.ref  (or: pulumi config rm --path onedigest:image.promoteFrom)`,
        ],
        [
            "a typo in a field name",
            { local: { prot: 8081 } },
            `onedigest:local.prot: got 8081; expected one of the fields port, restart, memoryMb, prometheusPort, scrapeSeconds, alertForSeconds. Fix: pulumi config rm --path onedigest:local.prot`,
        ],
        [
            "a secret-like name in plain env",
            { app: { env: { DB_PASSWORD: "hunter2" } } },
            `onedigest:app.env.DB_PASSWORD: got "DB_PASSWORD"; expected no secret-like names in plain environment (use onedigest:secretKey, which is stored as a secret). Fix: pulumi config rm --path onedigest:app.env.DB_PASSWORD`,
        ],
        [
            "an env value that is not text",
            { app: { env: { WORKERS: [4] } } },
            `onedigest:app.env.WORKERS: got [4]; expected a string. Fix: pulumi config set --path --type string onedigest:app.env.WORKERS 4`,
        ],
        [
            "unknown platform",
            { image: { platform: "linux/s390x" } },
            `onedigest:image.platform: got "linux/s390x"; expected one of linux/amd64, linux/arm64. Fix: pulumi config set --path onedigest:image.platform linux/amd64`,
        ],
    ];
    for (const [what, values, message] of cases) {
        it(what, () => assert.strictEqual(configError(values), message));
    }

    it("a missing secretKey where a target shares the app with the world", () => {
        assert.strictEqual(
            configError({ targets: ["local", "aws-ecs"] }, { secretKey: undefined, providerConfig: (ns, key) => (ns === "aws" && key === "region" ? "eu-west-1" : undefined) }),
            `onedigest:secretKey: got (not set); expected a secret string (the app's SECRET_KEY; only a stack whose targets are all local may leave it unset). Fix: pulumi config set --secret onedigest:secretKey '<random 64 hex>'`,
        );
    });

    it("no secretKey is needed when every target is local", () => {
        assert.strictEqual(loadConfig(sources({ targets: ["local"] }, { secretKey: undefined })).secretKey, undefined);
    });

    it("reports every problem at once", () => {
        const message = configError({ targets: ["local", "nope"], app: { name: "-x", port: 1 } });
        const lines = message.split("\n");
        assert.strictEqual(lines[0], "3 configuration problems:");
        assert.deepStrictEqual(
            lines.slice(1).map((l) => l.split(":").slice(0, 2).join(":")),
            ["onedigest:targets[1]", "onedigest:app.name", "onedigest:app.port"],
        );
    });
});

describe("config: errors stop the program before any resource", () => {
    it("registers nothing when the config is bad", async () => {
        const { message, resources } = await runProgramError({ targets: ["local"], app: { port: 1 } });
        assert.strictEqual(message, "onedigest:app.port: got 1; expected an integer from 1024 to 65535. Fix: pulumi config set --path onedigest:app.port 8080");
        assert.deepStrictEqual(resources, []);
    });

    it("names a key the project does not have (a typo)", async () => {
        const { message, resources } = await runProgramError({ targets: ["local"], ecss: { cpu: 256 } });
        assert.strictEqual(
            message,
            "onedigest:ecss: got a value; expected one of the keys targets, secretKey, herokuApiKey, registryAuth, app, image, alerts, local, heroku, ecs, beanstalk, ecsExpress, cloudrun. Fix: pulumi config rm onedigest:ecss",
        );
        assert.deepStrictEqual(resources, []);
    });

    it("registers nothing without a secretKey", async () => {
        const { message, resources } = await runProgramError({ targets: ["local", "aws-ecs"], "aws:region": "eu-west-1", secretKey: null });
        assert.match(message, /^onedigest:secretKey: got \(not set\)/);
        assert.deepStrictEqual(resources, []);
    });
});

describe("config: image.signedBy", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const PUB = publicKey.export({ type: "spki", format: "pem" }).toString();
    const PRIV = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const REF = `registry.example.com/app@sha256:${"a".repeat(64)}`;
    const registryAuth = [{ address: "registry.example.com", authDisabled: true }];
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-cosign-bin-"));
    fs.writeFileSync(path.join(bin, "cosign"), "#!/bin/sh\n", { mode: 0o755 });
    const withCosign = { env: { PATH: bin }, secretKeys: ["onedigest:registryAuth"] };
    const keyFix = `pulumi config set --path onedigest:image.signedBy.key -- "$(cat cosign.pub)"`;
    after(() => fs.rmSync(bin, { recursive: true, force: true }));

    it("a public key or a keyless identity and issuer, kept on the image config", () => {
        const pinned = loadConfig(sources({ image: { ref: REF, signedBy: { key: PUB } }, registryAuth }, withCosign));
        assert.deepStrictEqual(pinned.image, { source: "ref", platform: "linux/amd64", ref: REF, signedBy: { key: PUB } });
        const keyless = { identity: "https://github.com/acme/shop/.github/workflows/deploy.yml@refs/heads/main", issuer: "https://token.actions.githubusercontent.com" };
        assert.deepStrictEqual(loadConfig(sources({ image: { promoteFrom: "dev", signedBy: keyless } }, withCosign)).image.signedBy, keyless);
        // A build checks nothing (its bits are its own), so it needs no cosign.
        assert.deepStrictEqual(loadConfig(sources({ image: { signedBy: { key: PUB.trim() } } })).image, { source: "build", platform: "linux/amd64", signedBy: { key: PUB } });
    });

    const cases: Array<[string, unknown, string]> = [
        ["not an object", "cosign.pub", `onedigest:image.signedBy: got "cosign.pub"; expected { key: <PEM public key, as in cosign.pub> } or { identity: <certificate identity>, issuer: <OIDC issuer https URL> }. Fix: pulumi config rm --path onedigest:image.signedBy && ${keyFix}  (or: pulumi config set --path onedigest:image.signedBy.identity https://github.com/acme/shop/.github/workflows/deploy.yml@refs/heads/main && pulumi config set --path onedigest:image.signedBy.issuer https://token.actions.githubusercontent.com)`],
        ["both a key and an identity", { key: "k", identity: "i", issuer: "https://x" }, `onedigest:image.signedBy: got {"key":"k","identity":"i","issuer":"https://x"}; expected { key: <PEM public key, as in cosign.pub> } or`],
        ["an identity without its issuer", { identity: "ci@example.com" }, `onedigest:image.signedBy: got {"identity":"ci@example.com"}; expected { key:`],
        ["a key that is not PEM", { key: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" }, `onedigest:image.signedBy.key: got "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"; expected a PEM public key (-----BEGIN PUBLIC KEY----- …, as cosign generate-key-pair writes cosign.pub). Fix: ${keyFix}`],
        ["a PEM that does not parse", { key: "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----" }, `onedigest:image.signedBy.key: got "-----BEGIN PUBLIC KEY-----\\nnot base64\\n-----END PUBLIC KEY-----"; expected a PEM public key`],
        ["an empty identity and an http issuer", { identity: " ", issuer: "http://issuer.example.com" }, `2 configuration problems:\nonedigest:image.signedBy.identity: got " "; expected a certificate identity (a keyless signer: the workflow's URL with its ref, or an email). Fix: pulumi config set --path onedigest:image.signedBy.identity https://github.com/acme/shop/.github/workflows/deploy.yml@refs/heads/main\nonedigest:image.signedBy.issuer: got "http://issuer.example.com"; expected the OIDC issuer of the signer's identity, an https URL. Fix: pulumi config set --path onedigest:image.signedBy.issuer https://token.actions.githubusercontent.com`],
    ];
    for (const [what, signedBy, message] of cases) {
        it(what, () => {
            const got = configError({ image: { ref: REF, signedBy }, registryAuth }, { ...withCosign, secretKeys: ["onedigest:registryAuth"] });
            assert.ok(got.startsWith(message), got);
        });
    }

    it("a private key is refused without being shown", () => {
        const got = configError({ image: { ref: REF, signedBy: { key: PRIV } }, registryAuth }, { ...withCosign, secretKeys: ["onedigest:registryAuth"] });
        assert.strictEqual(got, `onedigest:image.signedBy.key: got a private key (not shown); expected the PUBLIC key (cosign.pub): a private key must never be in stack config; make a new key pair, this one is exposed. Fix: ${keyFix}`);
        assert.ok(!got.includes(PRIV.split("\n")[1]));
    });

    it("a stack that pulls needs cosign on PATH, named before any resource", async () => {
        assert.strictEqual(
            configError({ image: { promoteFrom: "dev", signedBy: { key: PUB } } }, { env: { PATH: "/nonexistent" } }),
            "onedigest:image.signedBy: got no cosign on PATH; expected cosign v2 on PATH, which checks the signature of the image this stack pulls. Fix: bash ../shared/tools/supply-chain/install.sh ~/.cache/onedigest/supply-chain && . ~/.cache/onedigest/supply-chain/env.sh  (or install cosign from https://docs.sigstore.dev/cosign/system_config/installation/)",
        );
    });
});
