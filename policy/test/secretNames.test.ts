import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import { SECRET_LIKE, looksSecret } from "../secretNames";

describe("secret-looking names", () => {
    it("is the program's own rule (config.ts SECRET_LIKE), written the same", () => {
        const configTs = path.join(__dirname, "..", "..", "config.ts");
        const source = fs.readFileSync(configTs, "utf8");
        const match = /const SECRET_LIKE = (\/.*\/[a-z]*);/.exec(source);
        assert.ok(match, "config.ts declares SECRET_LIKE");
        assert.strictEqual(SECRET_LIKE.toString(), match[1]);
    });

    it("matches the names the program refuses and not the ones it sets", () => {
        for (const name of ["SECRET_KEY", "DB_PASSWORD", "PASSWD", "GITHUB_TOKEN", "AWS_ACCESS_KEY_ID", "ACCESSKEY", "STRIPE_API_KEY", "APIKEY", "PRIVATE_PEM", "GOOGLE_CREDENTIALS", "secret_key"]) assert.ok(looksSecret(name), name);
        for (const name of ["PORT", "IMAGE_ID", "LOG_LEVEL", "FORCE_HTTPS", "PROXY_FIX_COUNT", "CANONICAL_HOST", "APP_VERSION"]) assert.ok(!looksSecret(name), name);
    });
});
