// The header that carries CLUSTER_SECRET: on nodes' internal calls, and on the admin calls of the command line.
export const SECRET_HEADER = "x-limedb-secret";
