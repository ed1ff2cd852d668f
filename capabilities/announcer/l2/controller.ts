/** L2 owner election (ServiceL2Status). Not implemented yet: this seam keeps the build whole. */
export async function startL2Election(): Promise<void> {}
