/** Hand-made resources and stacks, as the engine would send them, for the rules' unit tests. */
import { Archive, Asset, Secret, UNKNOWN, type Resource, type StackInfo, type Value } from "../values";

export const ID_A = `sha256:${"a".repeat(64)}`;
export const ID_B = `sha256:${"b".repeat(64)}`;
export const DIGEST = `sha256:${"c".repeat(64)}`;
export const REF = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/onedigest-prod@${DIGEST}`;

export function res(type: string, name: string, props: Record<string, Value>, extra: Partial<Resource> = {}): Resource {
    return { type, urn: `urn:pulumi:dev::onedigest::${type}::${name}`, name, props, protect: false, dependencies: [], propertyDependencies: {}, ...extra };
}

export function stack(name = "dev", config: Record<string, string> = {}): StackInfo {
    return { stack: name, project: "onedigest", config, secretKeys: [] };
}

export const secret = (v: Value) => new Secret(v);
export const unknown = UNKNOWN;
export const text = (t: string) => new Asset({ text: t });
export const archive = (files: Record<string, Value>) => new Archive({ assets: files });

/** An ECS container definition list as onedigest writes it (providers/awsEcs.ts). */
export function containers(image: string, env: Record<string, string> = {}): string {
    return JSON.stringify([{ name: "app", image, environment: Object.entries(env).map(([name, value]) => ({ name, value })), secrets: [{ name: "SECRET_KEY", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k:::v1" }] }]);
}

/** A Beanstalk source bundle as onedigest writes it (providers/awsBeanstalk.ts). */
export function bundle(image: string, imageId = ID_A, extra: Array<{ namespace: string; option_name: string; value: string }> = []): Archive {
    const environment = "aws:elasticbeanstalk:application:environment";
    return archive({
        "Dockerrun.aws.json": text(JSON.stringify({ AWSEBDockerrunVersion: "1", Image: { Name: image, Update: "true" }, Ports: [{ ContainerPort: "8080" }] })),
        ".ebextensions/onedigest-release.config": text(JSON.stringify({ option_settings: [{ namespace: environment, option_name: "IMAGE_ID", value: imageId }, { namespace: environment, option_name: "SECRET_KEY_VERSION", value: "v-123" }, ...extra] })),
    });
}
