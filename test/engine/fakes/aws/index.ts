/**
 * The fake `aws` resource provider plugin (resource-aws v7.48.0, the @pulumi/aws SDK's version):
 * every `aws:` resource type and invoke onedigest registers, one module per AWS service, over the
 * store in $ONEDIGEST_FAKE_STORE/aws.json. Started by test/engine/fakes/bin/aws.
 */
import { serve, type Cloud } from "../framework";
import * as appautoscaling from "./appautoscaling";
import * as cloudwatch from "./cloudwatch";
import { formatError } from "./common";
import * as ec2 from "./ec2";
import * as ecr from "./ecr";
import * as ecs from "./ecs";
import * as ecsExpress from "./ecsExpress";
import * as elasticbeanstalk from "./elasticbeanstalk";
import * as elbv2 from "./elbv2";
import * as iam from "./iam";
import * as logs from "./logs";
import * as s3 from "./s3";
import * as secretsmanager from "./secretsmanager";
import * as sns from "./sns";

export const aws: Cloud = {
    name: "aws",
    version: "7.48.0",
    resources: [
        ecr.repository,
        ecr.lifecyclePolicy,
        secretsmanager.secret,
        secretsmanager.secretVersion,
        iam.role,
        iam.rolePolicy,
        iam.rolePolicyAttachment,
        iam.instanceProfile,
        ec2.securityGroup,
        ec2.securityGroupIngressRule,
        ec2.securityGroupEgressRule,
        elbv2.loadBalancer,
        elbv2.targetGroup,
        elbv2.listener,
        ecs.cluster,
        ecs.taskDefinition,
        ecs.service,
        ecsExpress.expressGatewayService,
        logs.logGroup,
        cloudwatch.metricAlarm,
        cloudwatch.dashboard,
        sns.topic,
        sns.topicSubscription,
        appautoscaling.target,
        appautoscaling.policy,
        s3.bucket,
        s3.bucketObjectv2,
        s3.bucketOwnershipControls,
        s3.bucketPublicAccessBlock,
        s3.bucketServerSideEncryptionConfiguration,
        elasticbeanstalk.application,
        elasticbeanstalk.applicationVersion,
        elasticbeanstalk.environment,
    ],
    invokes: {
        "aws:ecr/getAuthorizationToken:getAuthorizationToken": ecr.getAuthorizationToken,
        "aws:ecr/getRepository:getRepository": ecr.getRepository,
        "aws:secretsmanager/getSecret:getSecret": secretsmanager.getSecret,
        "aws:ec2/getVpcs:getVpcs": ec2.getVpcs,
        "aws:ec2/getSubnets:getSubnets": ec2.getSubnets,
        "aws:ec2/getSubnet:getSubnet": ec2.getSubnet,
        "aws:elasticbeanstalk/getSolutionStack:getSolutionStack": elasticbeanstalk.getSolutionStack,
    },
    formatError,
};

if (require.main === module) void serve(aws);
