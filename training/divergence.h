#pragma once
// When a training run has diverged (torch-free: the trainer and its tests use
// it). A diverged run is reported as such and never saved as a finished model:
// a researcher would otherwise read "10.00% accuracy" as the method's result.
//
// After every epoch the run has diverged when
//   - its training loss is not finite, or
//   - its training accuracy is at chance: below chance + 5% of the way from
//     chance to 100% (10 classes: 14.5%; a Fashion-MNIST run that learns is
//     past 50% after its first epoch), or
//   - it predicts one class for every test image while the test set holds
//     several (a collapsed network: 10.00% on Fashion-MNIST, one class for
//     every image).
// The two accuracy rules judge only an epoch of at least kMinStepsToJudge
// steps: after a handful of steps (the tests' tiny runs, a smoke run) a
// healthy network may still be at chance.
// A step whose loss is not finite stops the run at once (the trainer checks
// every step).
#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/error.h"

namespace palsim::training {

constexpr int64_t kMinStepsToJudge = 50;

struct EpochHealth {
  int64_t steps = 0;  // optimizer steps in the epoch
  double train_loss = 0;
  double train_accuracy_percent = 0;
  int classes = 0;                        // of the network's output
  int64_t distinct_test_predictions = 0;  // classes predicted for at least one test image
  int64_t distinct_test_labels = 0;       // classes present among the test labels
};

// "" when the epoch looks healthy; else why the run diverged (one sentence).
std::string divergence_reason(const EpochHealth& h);

// The accuracy (percent) below which an epoch's training accuracy is "at chance".
double chance_threshold_percent(int classes);

// Thrown by train() for a diverged run (exit status 1 from the CLI, as every
// InputError).
class TrainingDiverged : public InputError {
 public:
  explicit TrainingDiverged(const std::string& message) : InputError(message) {}
};

}  // namespace palsim::training
