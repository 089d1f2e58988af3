import { describe, expect, it } from "vitest";
import { boundedCache } from "../src/bounded-cache.js";

describe("boundedCache", () => {
  it("makes a value once per key and hands the same one back", () => {
    const cache = boundedCache<string, object>(4);
    let made = 0;
    const make = () => ({ n: ++made });
    const a = cache("a", make);
    expect(cache("a", make)).toBe(a);
    expect(cache("b", make)).not.toBe(a);
    expect(made).toBe(2);
  });

  it("forgets every entry once it holds its bound, and stays within it", () => {
    const cache = boundedCache<number, number>(2);
    let made = 0;
    const make = () => ++made;
    cache(1, make);
    cache(2, make);
    cache(3, make); // full: 1 and 2 are forgotten
    expect(made).toBe(3);
    expect(cache(3, make)).toBe(3);
    expect(cache(1, make)).toBe(4); // made again
  });
});
