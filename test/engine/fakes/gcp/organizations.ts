/**
 * The provider's own view of its caller: `gcp:organizations/getClientConfig:getClientConfig`, whose
 * `accessToken` is the password Artifact Registry takes for `oauth2accesstoken`. The fake's token
 * is the one the harness gave the Artifact Registry stand-in (ONEDIGEST_FAKE_GCP_TOKEN).
 */
import { requireEnv, type InvokeFn } from "../framework";

export const getClientConfig: InvokeFn = (op) => {
    const project = op.config.project ?? "";
    const region = op.config.region ?? "";
    const zone = op.config.zone ?? "";
    return {
        accessToken: requireEnv("ONEDIGEST_FAKE_GCP_TOKEN"),
        defaultLabels: {},
        // The Terraform data source's ID: google/services/resourcemanager/data_source_google_client_config.go:146.
        id: `projects/${project}/regions/${region}/zones/${zone}`,
        project,
        region,
        zone,
    };
};
