/**
 * The fake `gcp` resource provider plugin (resource-gcp v9.37.0, the @pulumi/gcp SDK's version):
 * every `gcp:` resource type and invoke onedigest registers, one module per Google Cloud service,
 * over the store in $ONEDIGEST_FAKE_STORE/gcp.json. Started by test/engine/fakes/bin/gcp. No module
 * asks to delete before it replaces (none of these resources' Terraform schemas needs it): a
 * replacement that keeps its name clashes with the resource it replaces unless the program sets
 * deleteBeforeReplace.
 */
import { serve, type Cloud } from "../framework";
import * as artifactregistry from "./artifactregistry";
import * as cloudrunv2 from "./cloudrunv2";
import { formatError } from "./common";
import * as monitoring from "./monitoring";
import * as organizations from "./organizations";
import * as projects from "./projects";
import * as secretmanager from "./secretmanager";
import * as serviceaccount from "./serviceaccount";

export const gcp: Cloud = {
    name: "gcp",
    version: "9.37.0",
    resources: [
        projects.service,
        artifactregistry.repository,
        secretmanager.secret,
        secretmanager.secretVersion,
        secretmanager.secretIamMember,
        serviceaccount.account,
        cloudrunv2.service,
        monitoring.notificationChannel,
        monitoring.uptimeCheckConfig,
        monitoring.alertPolicy,
        monitoring.dashboard,
    ],
    invokes: {
        "gcp:organizations/getClientConfig:getClientConfig": organizations.getClientConfig,
        "gcp:artifactregistry/getRepository:getRepository": artifactregistry.getRepository,
    },
    formatError,
};

if (require.main === module) void serve(gcp);
