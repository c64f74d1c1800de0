/**
 * Each target's settings: the exact message for a bad value of every field, what each pattern
 * accepts and refuses at both ends, the edges of every range, and the defaults a target falls back
 * to when Pulumi.yaml gives none.
 */
import * as assert from "assert";

import * as pulumi from "@pulumi/pulumi";

import { loadConfig, type ConfigSources } from "../config";
import { LIMITS, physicalName } from "../providers/names";
import { configError, sources } from "./helpers";

const PROVIDERS: Record<string, string> = { "aws:region": "eu-west-1", "gcp:project": "p", "gcp:region": "europe-west1" };
const EXTRA: Partial<ConfigSources> = {
    providerConfig: (ns, key) => PROVIDERS[`${ns}:${key}`],
    secret: (key) => (key === "herokuApiKey" ? pulumi.secret("hk") : undefined),
};
const CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-0000-4000-8000-123456789abc";
const RETENTION = "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653";

const error = (values: Record<string, unknown>): string => configError(values, EXTRA);
/** The settings loadConfig returns for `kind`, or the problems it reports, one per line. */
/** What Pulumi.yaml gives `alerts`, for the runs without its defaults (they are required keys). */
const ALERTS = { errorRatePercent: 5, latencyP99Ms: 1000, unhealthyMinutes: 3 };

function settingsOf(kind: string, values: Record<string, unknown>, defaults?: Record<string, unknown>): unknown {
    try {
        return loadConfig(sources({ targets: [kind], ...values }, EXTRA), defaults).settings[kind as never];
    } catch (err) {
        return (err as Error).message;
    }
}
const ok = (kind: string, key: string, settings: Record<string, unknown>): boolean => typeof settingsOf(kind, { [key]: settings }) === "object";

describe("settings: exact messages for bad values", () => {
    it("aws-ecs", () => {
        assert.strictEqual(
            error({ targets: ["aws-ecs"], ecs: { vpcId: "vpc-123", subnetIds: ["subnet-0123456789abcdef0", "x"], taskSubnetIds: ["subnet-1"], taskPolicyArns: ["arn:aws:iam::aws:role/x"], logRetentionDays: 31 } }),
            [
                "6 configuration problems:",
                "onedigest:ecs.vpcId: got \"vpc-123\"; expected a VPC ID (vpc-…). Fix: pulumi config set --path onedigest:ecs.vpcId vpc-0123456789abcdef0",
                "onedigest:ecs.subnetIds[1]: got \"x\"; expected a subnet ID (subnet-…). Fix: pulumi config set --path 'onedigest:ecs.subnetIds[1]' subnet-0123456789abcdef0",
                "onedigest:ecs.subnetIds: got [\"subnet-0123456789abcdef0\"]; expected at least two subnets in different availability zones (an ALB needs two). Fix: pulumi config rm --path onedigest:ecs.subnetIds && pulumi config set --path 'onedigest:ecs.subnetIds[0]' subnet-0123456789abcdef0 && pulumi config set --path 'onedigest:ecs.subnetIds[1]' subnet-0123456789abcdef1",
                "onedigest:ecs.taskSubnetIds[0]: got \"subnet-1\"; expected a subnet ID (subnet-…). Fix: pulumi config set --path 'onedigest:ecs.taskSubnetIds[0]' subnet-0123456789abcdef0",
                `onedigest:ecs.logRetentionDays: got 31; expected one of ${RETENTION}. Fix: pulumi config set --path onedigest:ecs.logRetentionDays 30`,
                "onedigest:ecs.taskPolicyArns[0]: got \"arn:aws:iam::aws:role/x\"; expected an IAM policy ARN. Fix: pulumi config set --path 'onedigest:ecs.taskPolicyArns[0]' arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            ].join("\n"),
        );
    });

    it("HTTPS on AWS: the domain's form, a certificate without its domain, FORCE_HTTPS without either", () => {
        assert.strictEqual(
            error({ targets: ["aws-ecs"], ecs: { certificateArn: CERT, domain: "App.Example.com" } }),
            "onedigest:ecs.domain: got \"App.Example.com\"; expected a lowercase DNS name such as app.example.com. Fix: pulumi config set --path onedigest:ecs.domain app.example.com",
        );
        const noDomain = "onedigest:ecs.domain: got (not set); expected the domain the load balancer's certificate was issued for (its own DNS name is not on one); point its DNS at the load balancer. Fix: pulumi config set --path onedigest:ecs.domain app.example.com";
        assert.strictEqual(error({ targets: ["aws-ecs"], ecs: { certificateArn: CERT } }), noDomain);
        assert.strictEqual(
            error({ targets: ["aws-ecs"], app: { env: { FORCE_HTTPS: "Yes" } } }),
            [
                "2 configuration problems:",
                "onedigest:ecs.certificateArn: got (not set); expected an ACM certificate for the load balancer's HTTPS listener (onedigest:app.env.FORCE_HTTPS is Yes, so the app redirects every request to HTTPS). Fix: pulumi config set --path onedigest:ecs.certificateArn 'arn:aws:acm:<region>:<account>:certificate/<uuid>'",
                noDomain,
            ].join("\n"),
        );
        for (const off of ["0", "no", "", "false"]) assert.strictEqual(typeof settingsOf("aws-ecs", { app: { env: { FORCE_HTTPS: off } } }), "object", off);
        for (const on of ["1", "TRUE", "on"]) assert.match(String(settingsOf("aws-ecs", { app: { env: { FORCE_HTTPS: on } } })), /onedigest:ecs\.certificateArn: got \(not set\)/, on);
    });

    it("aws-beanstalk", () => {
        assert.strictEqual(
            error({ targets: ["aws-beanstalk"], beanstalk: { instanceType: "T3.small", deploymentPolicy: "x", logRetentionDays: 2 } }),
            [
                "3 configuration problems:",
                "onedigest:beanstalk.instanceType: got \"T3.small\"; expected an EC2 instance type such as t3.small. Fix: pulumi config set --path onedigest:beanstalk.instanceType t3.small",
                "onedigest:beanstalk.deploymentPolicy: got \"x\"; expected one of Rolling, RollingWithAdditionalBatch, Immutable, TrafficSplitting, AllAtOnce. Fix: pulumi config set --path onedigest:beanstalk.deploymentPolicy RollingWithAdditionalBatch",
                `onedigest:beanstalk.logRetentionDays: got 2; expected one of ${RETENTION}. Fix: pulumi config set --path onedigest:beanstalk.logRetentionDays 30`,
            ].join("\n"),
        );
    });

    it("gcp-cloudrun", () => {
        assert.strictEqual(
            error({ targets: ["gcp-cloudrun"], cloudrun: { region: "Europe-west1", cpu: "3", ingress: "x", public: "yes", deletionProtection: 1, repository: "Repo" } }),
            [
                "6 configuration problems:",
                "onedigest:cloudrun.region: got \"Europe-west1\"; expected a Cloud Run region such as europe-west1. Fix: pulumi config set --path onedigest:cloudrun.region europe-west1",
                "onedigest:cloudrun.cpu: got \"3\"; expected one of 1, 2, 4, 6, 8. Fix: pulumi config set --path --type string onedigest:cloudrun.cpu 1",
                "onedigest:cloudrun.ingress: got \"x\"; expected one of all, internal, internal-and-cloud-load-balancing. Fix: pulumi config set --path onedigest:cloudrun.ingress all",
                "onedigest:cloudrun.public: got \"yes\"; expected true or false. Fix: pulumi config set --path onedigest:cloudrun.public true",
                "onedigest:cloudrun.deletionProtection: got 1; expected true or false. Fix: pulumi config set --path onedigest:cloudrun.deletionProtection false",
                "onedigest:cloudrun.repository: got \"Repo\"; expected an Artifact Registry repository ID (a-z, 0-9, '-'). Fix: pulumi config set --path onedigest:cloudrun.repository onedigest",
            ].join("\n"),
        );
        assert.strictEqual(error({ targets: ["gcp-cloudrun"], cloudrun: { cpu: "4" } }), "onedigest:cloudrun.memory: got \"512Mi\"; expected with cpu 4, one of 2Gi, 4Gi, 8Gi, 16Gi. Fix: pulumi config set --path onedigest:cloudrun.memory 2Gi");
        assert.strictEqual(error({ targets: ["gcp-cloudrun"], cloudrun: { memory: "8Gi" } }), "onedigest:cloudrun.memory: got \"8Gi\"; expected with cpu 1, one of 512Mi, 1Gi, 2Gi, 4Gi. Fix: pulumi config set --path onedigest:cloudrun.memory 512Mi");
        assert.strictEqual(error({ targets: ["gcp-cloudrun"], cloudrun: { minInstances: 5, maxInstances: 4 } }), "onedigest:cloudrun.minInstances: got 5; expected at most maxInstances (4). Fix: pulumi config set --path onedigest:cloudrun.minInstances 4");
    });

    it("heroku", () => {
        assert.strictEqual(
            error({ targets: ["heroku"], heroku: { appName: "A", dynoSize: "x", region: "asia", team: 5, quantity: 2 } }),
            [
                "5 configuration problems:",
                "onedigest:heroku.appName: got \"A\"; expected a Heroku app name: 3-30 characters of a-z, 0-9 and '-', starting with a letter, ending with a letter or digit. Fix: pulumi config set --path onedigest:heroku.appName myapp-prod",
                "onedigest:heroku.dynoSize: got \"x\"; expected one of eco, basic, standard-1x, standard-2x, performance-m, performance-l, performance-l-ram, performance-xl, performance-2xl. Fix: pulumi config set --path onedigest:heroku.dynoSize basic",
                "onedigest:heroku.quantity: got 2; expected 0 or 1 for basic dynos (scale out with standard-1x or larger). Fix: pulumi config set --path onedigest:heroku.quantity 1",
                "onedigest:heroku.region: got \"asia\"; expected one of us, eu. Fix: pulumi config set --path onedigest:heroku.region us",
                "onedigest:heroku.team: got 5; expected a string. Fix: pulumi config set --path onedigest:heroku.team my-team",
            ].join("\n"),
        );
        assert.strictEqual(error({ targets: ["heroku"], heroku: { dynoSize: "eco", quantity: 2 } }), "onedigest:heroku.quantity: got 2; expected 0 or 1 for eco dynos (scale out with standard-1x or larger). Fix: pulumi config set --path onedigest:heroku.quantity 1");
        assert.ok(ok("heroku", "heroku", { dynoSize: "standard-1x", quantity: 2 }));
        assert.ok(ok("heroku", "heroku", { dynoSize: "basic", quantity: 1 }));
    });

    it("local", () => {
        assert.strictEqual(error({ targets: ["local"], local: { restart: "sometimes" } }), "onedigest:local.restart: got \"sometimes\"; expected one of no, on-failure, always, unless-stopped. Fix: pulumi config set --path onedigest:local.restart unless-stopped");
    });
});

describe("settings: each pattern is anchored at both ends", () => {
    const cases: Array<[kind: string, key: string, field: string, good: string[], bad: string[]]> = [
        ["aws-ecs", "ecs", "vpcId", ["vpc-0123abcd", "vpc-0123456789abcdef0"], ["xvpc-0123abcd", "vpc-0123abcdx", "vpc-0123abc", "vpc-0123456789abcdef01"]],
        ["aws-ecs", "ecs", "certificateArn", [CERT, CERT.replace("arn:aws:", "arn:aws-us-gov:")], [`x${CERT}`, `${CERT}x`, CERT.replace("arn:aws:", "arn:aws1:"), CERT.replace("123456789012", "12345678901")]],
        ["aws-ecs", "ecs", "domain", ["app.example.com", "a.io", `${"a".repeat(63)}.example.com`], ["app.example.com.", ".app.example.com", "app", "app.example.c", `${"a".repeat(64)}.example.com`, `${"a.".repeat(126)}com`, "-app.example.com", "app-.example.com"]],
        ["aws-beanstalk", "beanstalk", "instanceType", ["t3.small", "m7i.large", "u-6tb1.metal"], ["xt3.small!", "t3.small.", " t3.small", "t3.", "3t.small"]],
        ["gcp-cloudrun", "cloudrun", "region", ["europe-west1", "us-central1", "europe-west10", "me-central2"], ["xeurope-west1!", "europe-west1x", "-west1", "europe-1", "europe-westx", "europe-west"]],
        ["gcp-cloudrun", "cloudrun", "repository", ["a", "my-repo", `a${"b".repeat(62)}`], ["1repo", "repo-", "Repo", `a${"b".repeat(63)}`, "repo_x", " repo"]],
        ["heroku", "heroku", "appName", ["abc", "my-app-1", `a${"b".repeat(29)}`], ["ab", "1app", "app-", `a${"b".repeat(30)}`, "App", "my app"]],
    ];
    for (const [kind, key, field, good, bad] of cases) {
        it(`${key}.${field}`, () => {
            const base: Record<string, unknown> = { certificateArn: { domain: "app.example.com" }, domain: { certificateArn: CERT }, vpcId: { subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] } }[field] ?? {};
            for (const value of good) assert.ok(ok(kind, key, { ...base, [field]: value }), `${value} refused: ${String(settingsOf(kind, { [key]: { ...base, [field]: value } }))}`);
            for (const value of bad) assert.ok(!ok(kind, key, { ...base, [field]: value }), `${value} accepted`);
        });
    }

    it("ecs.subnetIds, ecs.taskSubnetIds and ecs.taskPolicyArns, item by item", () => {
        const two = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"];
        const net = (subnets: string[]) => ({ vpcId: "vpc-0123456789abcdef0", subnetIds: subnets });
        assert.ok(ok("aws-ecs", "ecs", net(two)));
        for (const bad of ["xsubnet-01234567", "subnet-01234567x", "subnet-0123456"]) assert.ok(!ok("aws-ecs", "ecs", net([two[0], bad])), bad);
        assert.ok(ok("aws-ecs", "ecs", { taskSubnetIds: ["subnet-01234567"] }));
        for (const bad of ["subnet-01234567 ", "a-subnet-01234567"]) assert.ok(!ok("aws-ecs", "ecs", { taskSubnetIds: [bad] }), bad);
        for (const good of ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws-cn:iam::123456789012:policy/team/x"]) assert.ok(ok("aws-ecs", "ecs", { taskPolicyArns: [good] }), good);
        for (const bad of ["xarn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/A\nB", "arn:aws:iam::aws:policy/", "arn:aws:iam::12345678901:policy/A", "arn:aws:iam::1234567890123:policy/A", "arn:aws1:iam::aws:policy/A", "arn:aws:iam::abcdefghijkl:policy/A"]) {
            assert.ok(!ok("aws-ecs", "ecs", { taskPolicyArns: [bad] }), bad);
        }
    });
});

describe("settings: the edges of every range", () => {
    it("counts: equal minimum and maximum are fine, and the desired count may sit on either", () => {
        for (const ecs of [{ minCount: 3, maxCount: 3, desiredCount: 3 }, { minCount: 2, maxCount: 4, desiredCount: 4 }, { minCount: 2, maxCount: 4, desiredCount: 2 }]) assert.ok(ok("aws-ecs", "ecs", ecs), JSON.stringify(ecs));
        assert.match(String(settingsOf("aws-ecs", { ecs: { minCount: 4, maxCount: 3, desiredCount: 9 } })), /^onedigest:ecs\.minCount: got 4; expected at most maxCount \(3\)\./);
        assert.match(String(settingsOf("aws-ecs", { ecs: { minCount: 3, maxCount: 3, desiredCount: 4 } })), /^onedigest:ecs\.desiredCount: got 4; expected from minCount to maxCount \(3-3\)\./);
        assert.ok(ok("aws-beanstalk", "beanstalk", { minInstances: 2, maxInstances: 2 }));
        assert.ok(ok("gcp-cloudrun", "cloudrun", { minInstances: 4, maxInstances: 4 }));
    });

    it("Cloud Run memory: the largest size a cpu takes is fine, checked whenever cpu or memory is set", () => {
        assert.ok(ok("gcp-cloudrun", "cloudrun", { cpu: "1", memory: "4Gi" }));
        assert.ok(ok("gcp-cloudrun", "cloudrun", { cpu: "4", memory: "2Gi" }));
        assert.ok(!ok("gcp-cloudrun", "cloudrun", { cpu: "1", memory: "8Gi" }));
        assert.ok(!ok("gcp-cloudrun", "cloudrun", { memory: "8Gi" }));
        // Without Pulumi.yaml's defaults: setting either one alone is checked against the other's default.
        const alone = (cloudrun: Record<string, unknown>) => String(settingsOf("gcp-cloudrun", { app: { name: "a", port: 8080 }, alerts: ALERTS, cloudrun: { concurrency: 80, minInstances: 0, maxInstances: 10, ...cloudrun } }, {}));
        assert.match(alone({ memory: "8Gi" }), /^onedigest:cloudrun\.memory: got "8Gi"; expected with cpu 1, one of 512Mi, 1Gi, 2Gi, 4Gi\./);
        assert.match(alone({ cpu: "4" }), /^onedigest:cloudrun\.memory: got "512Mi"; expected with cpu 4, one of 2Gi, 4Gi, 8Gi, 16Gi\./);
    });
});

describe("settings: defaults when Pulumi.yaml gives none", () => {
    const app = { name: "shop", port: 8080 };
    const cases: Array<[kind: string, key: string, required: Record<string, unknown>, expected: Record<string, unknown>]> = [
        ["local", "local", { port: 8080, memoryMb: 512 }, { port: 8080, restart: "unless-stopped", memoryMb: 512, prometheusPort: 9090, scrapeSeconds: 15 }],
        ["aws-beanstalk", "beanstalk", { instanceType: "t3.small", minInstances: 1, maxInstances: 2, keepImages: 20 }, { region: "eu-west-1", instanceType: "t3.small", minInstances: 1, maxInstances: 2, deploymentPolicy: "RollingWithAdditionalBatch", certificateArn: undefined, domain: undefined, logRetentionDays: 30, keepImages: 20 }],
        [
            "aws-ecs",
            "ecs",
            { cpu: 256, memory: 512, desiredCount: 2, minCount: 2, maxCount: 4, cpuTargetPercent: 60, keepImages: 20, healthCheckGraceSeconds: 30 },
            { region: "eu-west-1", cpu: 256, memory: 512, desiredCount: 2, minCount: 2, maxCount: 4, cpuTargetPercent: 60, vpcId: undefined, subnetIds: undefined, taskSubnetIds: undefined, certificateArn: undefined, domain: undefined, logRetentionDays: 30, keepImages: 20, healthCheckGraceSeconds: 30, taskPolicyArns: [] },
        ],
        [
            "gcp-cloudrun",
            "cloudrun",
            { minInstances: 0, maxInstances: 10 },
            { project: "p", region: "europe-west1", cpu: "1", memory: "512Mi", concurrency: 8, minInstances: 0, maxInstances: 10, ingress: "all", public: true, deletionProtection: false, repository: "shop-test" },
        ],
    ];
    for (const [kind, key, required, expected] of cases) {
        it(kind, () => {
            assert.deepStrictEqual(settingsOf(kind, { app, alerts: ALERTS, [key]: required }, {}), expected);
        });
    }

    it("heroku", () => {
        const got = settingsOf("heroku", { app, alerts: ALERTS, heroku: { quantity: 1, releaseTimeoutSeconds: 300 } }, {}) as Record<string, unknown>;
        assert.match(String(got.appName), /^shop-test-[0-9a-f]{6}$/);
        assert.deepStrictEqual({ ...got, appName: undefined, apiKey: undefined }, { appName: undefined, region: "us", team: undefined, dynoSize: "basic", quantity: 1, releaseTimeoutSeconds: 300, apiKey: undefined, apiUrl: "https://api.heroku.com", registryUrl: "https://registry.heroku.com", logDrainUrl: undefined });
    });

    it("heroku's default app name is the stack's own: another organization or project gets another", () => {
        const nameIn = (organization: string, project: string) =>
            (loadConfig(sources({ targets: ["heroku"] }, { ...EXTRA, organization, project })).settings.heroku as { appName: string }).appName;
        const names = [nameIn("acme", "onedigest"), nameIn("other", "onedigest"), nameIn("acme", "shop")];
        assert.strictEqual(new Set(names).size, 3, names.join(", "));
        assert.strictEqual(names[0], physicalName(["onedigest", "test"], { ...LIMITS.herokuApp, unique: "acme/onedigest/test" }));
    });

    it("a prod stack protects its Cloud Run service from deletion unless told otherwise", () => {
        const prod = (cloudrun: Record<string, unknown>) => (loadConfig(sources({ targets: ["gcp-cloudrun"], cloudrun }, { ...EXTRA, stack: "prod" })).settings["gcp-cloudrun"] as { deletionProtection: boolean }).deletionProtection;
        assert.strictEqual(prod({}), true);
        assert.strictEqual(prod({ deletionProtection: false }), false);
    });
});
