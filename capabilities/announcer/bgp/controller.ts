/** BGP session planning (BGPSession per node and peer). Not implemented yet: this seam keeps the build whole. */
export async function startSessionPlanner(): Promise<void> {}
