// Prints one plain closing line after Jest's own summary, e.g. "Tests: 612 passed, 0 failed, 14 skipped",
// so CI systems that read the last line see the counts.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = results;
    process.stderr.write(`\nTests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped\n`);
  }
}
module.exports = SummaryReporter;
