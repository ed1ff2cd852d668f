import { describeNotification } from "./notification";

describe("describeNotification", () => {
  it.each([
    [1, 1, "Message Header Error / Connection Not Synchronized"],
    [2, 2, "OPEN Message Error / Bad Peer AS"],
    [2, 0, "OPEN Message Error / Unspecific"],
    [3, 11, "UPDATE Message Error / Malformed AS_PATH"],
    [4, 0, "Hold Timer Expired"],
    [5, 3, "Finite State Machine Error / Receive Unexpected Message in Established State"],
    [6, 2, "Cease / Administrative Shutdown"],
    [6, 9, "Cease / Hard Reset"],
    [6, 0, "Cease"],
    [2, 99, "OPEN Message Error / subcode 99"],
    [42, 1, "Unknown error code 42 / subcode 1"],
  ])("(%i, %i) → %s", (code, subcode, text) => {
    expect(describeNotification(code, subcode)).toBe(text);
  });
});
