import type { Resource, StackInfo } from "../values";

/** One broken promise: the message names the resource, the property and the fix. */
export interface Violation {
    readonly message: string;
    /** The resource it is about (stack policies report it with this URN). */
    readonly urn?: string;
}

/** The resource types the policies read, as the engine names them. */
export const TYPES = {
    taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
    ecsService: "aws:ecs/service:Service",
    cloudRunV2: "gcp:cloudrunv2/service:Service",
    cloudRunV1: "gcp:cloudrun/service:Service",
    bucketObject: "aws:s3/bucketObjectv2:BucketObjectv2",
    herokuRelease: "pulumi-nodejs:dynamic/heroku:Release",
    herokuApp: "pulumi-nodejs:dynamic/heroku:App",
    container: "docker:index/container:Container",
    dockerImage: "docker:index/image:Image",
    remoteImage: "docker:index/remoteImage:RemoteImage",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    loadBalancers: ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"],
    listeners: ["aws:lb/listener:Listener", "aws:alb/listener:Listener"],
    ecr: "aws:ecr/repository:Repository",
    artifactRegistry: "gcp:artifactregistry/repository:Repository",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    beanstalkEnvironment: "aws:elasticbeanstalk/environment:Environment",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    iamPolicy: "aws:iam/policy:Policy",
    role: "aws:iam/role:Role",
} as const;

/** Which stacks the production policies hold: names starting with this (onedigest's isProductionStack). */
export const DEFAULT_PRODUCTION_PREFIX = "prod";

export function isProduction(stack: StackInfo, prefix: string = DEFAULT_PRODUCTION_PREFIX): boolean {
    return stack.stack.startsWith(prefix);
}

export type ResourceRule<C> = (r: Resource, config: C, stack: StackInfo) => Violation[];
export type StackRule<C> = (resources: readonly Resource[], config: C, stack: StackInfo) => Violation[];
