// Test cases for typescript.yml (semgrep --test); never compiled or run.
import * as child_process from "child_process";
import { exec, execFileSync, spawn } from "child_process";

import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

declare const bucket: aws.s3.Bucket;
declare const secretKey: pulumi.Output<string>;
declare const password: string;
declare const user: string;

// ruleid: resource-inside-apply
bucket.id.apply((id) => new aws.s3.BucketObject("o", { bucket: id }));
pulumi.all([bucket.id, bucket.arn]).apply(([id]) => {
    // ruleid: resource-inside-apply
    new docker.Image(`i-${id}`, { imageName: id });
});
// ok: resource-inside-apply
bucket.id.apply((id) => new URL(`https://${id}/`));
// ok: resource-inside-apply
bucket.id.apply((id) => new pulumi.asset.StringAsset(id));
// ok: resource-inside-apply
new aws.s3.BucketObject("o", { bucket: bucket.id });

// ruleid: time-or-random-in-logical-name
new aws.s3.Bucket(`b-${Date.now()}`);
// ruleid: time-or-random-in-logical-name
new docker.Image(`i-${Math.random()}`, { imageName: "x" });
// ok: time-or-random-in-logical-name
new aws.s3.Bucket("b", { tags: { at: String(Date.now()) } });

// ruleid: shell-command-string
exec(`docker pull ${user}`);
// ruleid: shell-command-string
child_process.execSync("ls " + user);
// ruleid: shell-command-string
spawn("ls", [user], { shell: true });
// ok: shell-command-string
execFileSync("docker", ["pull", user]);

// ruleid: tls-verify-off
fetch("https://example.com", { rejectUnauthorized: false } as RequestInit);
// ruleid: tls-verify-off
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";

// ruleid: eval
eval(user);
// ruleid: eval
new Function(user);

// ruleid: unsecret
export const plain = pulumi.unsecret(secretKey);

// ruleid: secret-to-console
console.log("key", secretKey);
// ruleid: secret-to-console
console.error(`login with ${password}`);
// ok: secret-to-console
console.log("user", user);
