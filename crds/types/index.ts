/** Pure metallb.io types: no pepr, no kubernetes-fluent-client. */
export * from "./common";
export * from "./kinds";
export * from "./ipaddresspool";
export * from "./l2advertisement";
export * from "./bgpadvertisement";
export * from "./bgppeer";
export * from "./bfdprofile";
export * from "./community";
export * from "./servicel2status";
export * from "./servicebgpstatus";
export * from "./configurationstate";
export * from "./bgpsession";
