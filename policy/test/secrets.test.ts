import * as assert from "assert";

import { checkNoPlainSecrets, plainEnvNames, secretValues } from "../rules/secrets";
import { TYPES } from "../rules/types";
import { REF, bundle, containers, res, secret, unknown } from "./helpers";

const KEY = "0123456789abcdef0123456789abcdef";
const env = (namespace: string, name: string, value: string) => ({ namespace, name, value });
const APP_ENV = "aws:elasticbeanstalk:application:environment";

describe("no-plain-secrets: names", () => {
    it("finds the plain environment of every target", () => {
        const resources = [
            res(TYPES.taskDefinition, "task", { containerDefinitions: containers(REF, { LOG_LEVEL: "info" }) }),
            res(TYPES.cloudRunV2, "run", { template: { containers: [{ envs: [{ name: "LOG_LEVEL", value: "x" }, { name: "SECRET_KEY", valueSource: { secretKeyRef: { secret: "s", version: "1" } } }] }] } }),
            res(TYPES.beanstalkEnvironment, "env", { settings: [env(APP_ENV, "LOG_LEVEL", "x"), env("aws:elasticbeanstalk:application:environmentsecrets", "SECRET_KEY", "arn")] }),
            res(TYPES.bucketObject, "bundle", { source: bundle(REF) }),
            res(TYPES.container, "local", { envs: ["LOG_LEVEL=x"] }),
            res(TYPES.herokuApp, "app", { configVars: { LOG_LEVEL: "x" } }),
        ];
        assert.deepStrictEqual(
            resources.flatMap(plainEnvNames).map((e) => `${e.resource.name} ${e.path}`),
            [
                "task containerDefinitions[0].environment[0].name",
                "run template.containers[0].envs[0].name",
                "env settings[aws:elasticbeanstalk:application:environment LOG_LEVEL]",
                'bundle source[".ebextensions/onedigest-release.config"].option_settings[0].option_name',
                'bundle source[".ebextensions/onedigest-release.config"].option_settings[1].option_name',
                "local envs[0]",
                "app configVars.LOG_LEVEL",
            ],
        );
    });

    it("passes onedigest's own targets: SECRET_KEY only from secret stores or secret inputs, SECRET_KEY_VERSION allowed", () => {
        const resources = [
            res(TYPES.taskDefinition, "task", { containerDefinitions: containers(REF, { PORT: "8080" }) }),
            res(TYPES.bucketObject, "bundle", { source: bundle(REF) }),
            res(TYPES.container, "local", { envs: secret(["PORT=8080", `SECRET_KEY=${KEY}`]) }),
            res(TYPES.herokuApp, "app", { configVars: secret({ PORT: "1", SECRET_KEY: KEY }) }),
        ];
        assert.deepStrictEqual(checkNoPlainSecrets(resources), []);
    });

    it("refuses a secret-looking name in plain env, naming the resource, the property and the fix", () => {
        const vs = checkNoPlainSecrets([res(TYPES.taskDefinition, "task", { containerDefinitions: containers(REF, { STRIPE_API_KEY: "sk_live_x" }) })]);
        assert.deepStrictEqual(vs.map((v) => v.message), [
            `aws:ecs/taskDefinition:TaskDefinition "task": containerDefinitions[0].environment[0].name is STRIPE_API_KEY, a secret-looking name in plain environment. Fix: keep secrets in the platform's secret store (onedigest:secretKey reaches the app as SECRET_KEY from it), or list the name in the pack config's no-plain-secrets.allowedNames if it holds no secret.`,
        ]);
        assert.strictEqual(checkNoPlainSecrets([res(TYPES.beanstalkEnvironment, "env", { settings: [env(APP_ENV, "DB_PASSWORD", "x")] })]).length, 1);
        assert.strictEqual(checkNoPlainSecrets([res(TYPES.container, "local", { envs: ["GITHUB_TOKEN=x"] })]).length, 1);
        assert.strictEqual(checkNoPlainSecrets([res(TYPES.herokuApp, "app", { configVars: { SECRET_KEY: "x" } })]).length, 1);
        assert.strictEqual(checkNoPlainSecrets([res(TYPES.bucketObject, "bundle", { source: bundle(REF) })], { allowedNames: [], minSecretLength: 8 }).length, 1, "SECRET_KEY_VERSION once it is not allowed");
    });
});

describe("no-plain-secrets: values", () => {
    it("knows a secret's value only from secret inputs: direct secrets, and secret-looking names inside secret bags", () => {
        const resources = [
            res("aws:secretsmanager/secretVersion:SecretVersion", "v", { secretString: secret(KEY) }),
            res(TYPES.container, "local", { envs: secret(["PORT=8080", "SECRET_KEY=local-secret-value"]) }),
            res(TYPES.herokuApp, "app", { configVars: secret({ PROXY_FIX_COUNT: "1", FORCE_HTTPS: "1", SECRET_KEY: "heroku-secret-value" }) }),
            res("pulumi:providers:pulumi-nodejs", "default", { "onedigest:secretKey": secret(KEY), "onedigest:app": '{"name":"x"}' }),
            res("x:y:Z", "short", { token: secret("abc") }),
        ];
        assert.deepStrictEqual(
            secretValues(resources).map((s) => s.where),
            [
                'aws:secretsmanager/secretVersion:SecretVersion "v" secretString',
                'docker:index/container:Container "local" envs[1]',
                'pulumi-nodejs:dynamic/heroku:App "app" configVars.SECRET_KEY',
                'pulumi:providers:pulumi-nodejs "default" onedigest:secretKey',
            ],
        );
    });

    it("refuses a plain input that holds a secret's value, anywhere, without printing it", () => {
        const resources = [
            res("aws:secretsmanager/secretVersion:SecretVersion", "v", { secretString: secret(KEY) }),
            res(TYPES.taskDefinition, "task", { containerDefinitions: containers(REF, { SESSION_SEED: KEY }) }),
            res(TYPES.bucketObject, "bundle", { source: bundle(REF, undefined, [{ namespace: APP_ENV, option_name: "SEED", value: KEY }]) }),
        ];
        const vs = checkNoPlainSecrets(resources);
        assert.deepStrictEqual(vs.map((v) => v.message), [
            `aws:ecs/taskDefinition:TaskDefinition "task": containerDefinitions carries in plain the value of a secret input (aws:secretsmanager/secretVersion:SecretVersion "v" secretString). Fix: pass it as a secret (pulumi.secret, or the platform's secret reference), never as a plain input.`,
            `aws:s3/bucketObjectv2:BucketObjectv2 "bundle": source[".ebextensions/onedigest-release.config"] carries in plain the value of a secret input (aws:secretsmanager/secretVersion:SecretVersion "v" secretString). Fix: pass it as a secret (pulumi.secret, or the platform's secret reference), never as a plain input.`,
        ]);
        assert.ok(vs.every((v) => !v.message.includes(KEY)));
    });

    it("passes the same value where it is a secret, unknowns, and values shorter than minSecretLength", () => {
        const resources = [
            res("aws:secretsmanager/secretVersion:SecretVersion", "v", { secretString: secret(KEY) }),
            res("gcp:secretmanager/secretVersion:SecretVersion", "g", { secretData: secret(KEY), secret: unknown }),
            res(TYPES.container, "local", { envs: secret([`SECRET_KEY=${KEY}`]) }),
            res("x:y:Z", "short", { token: secret("1"), plain: "1" }),
        ];
        assert.deepStrictEqual(checkNoPlainSecrets(resources), []);
    });
});
