// Preloaded with `node --require` by test/aws/lazy.test.ts: at exit, how many files of the AWS
// SDK (@aws-sdk/*, @smithy/*) the process loaded, one JSON line on stderr.
process.on("exit", () => {
  const files = Object.keys(require.cache).filter((k) =>
    /[\\/]node_modules[\\/]@(aws-sdk|smithy)[\\/]/.test(k),
  );
  process.stderr.write(`${JSON.stringify({ awsSdkFiles: files.length })}\n`);
});
