// Endpoint names in every partition (issue 23): the China regions' names end in amazonaws.com.cn.
import { describe, expect, it } from "vitest";
import { apiNames } from "../../src/config/prepare.js";
import { awsDomain, parseEndpoint } from "../../src/config/names.js";
import type { Target } from "../../src/types.js";

const CN = "vpce-0123456789abcdef0-abcd1234.execute-api.cn-north-1.vpce.amazonaws.com.cn";

describe("endpoint names in the China partition", () => {
  it("parse, region and endpoint id included", () => {
    expect(parseEndpoint(CN)).toEqual({ vpceId: "vpce-0123456789abcdef0", region: "cn-north-1" });
    expect(
      parseEndpoint("vpce-0a-b1-cn-northwest-1a.execute-api.cn-northwest-1.vpce.amazonaws.com.cn")
        .region,
    ).toBe("cn-northwest-1");
  });

  it("must carry the partition of their region", () => {
    expect(parseEndpoint(CN.replace(/\.cn$/, ""))).toEqual({});
    expect(parseEndpoint("vpce-0a-b1.execute-api.us-east-1.vpce.amazonaws.com.cn")).toEqual({});
  });

  it("give the API's own names in the same partition", () => {
    expect(awsDomain("cn-north-1")).toBe("amazonaws.com.cn");
    expect(awsDomain("eu-west-1")).toBe("amazonaws.com");
    const target = { endpoint: CN, apiId: "a1b2c3d4e5" } as Target;
    expect(apiNames(target)).toEqual({
      host: "a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn",
      alias: "a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.cn-north-1.amazonaws.com.cn",
    });
  });
});
