#include "training/divergence.h"

#include <fmt/format.h>

#include <cmath>

namespace palsim::training {

double chance_threshold_percent(int classes) {
  const double chance = classes > 0 ? 100.0 / classes : 0.0;
  return chance + 0.05 * (100.0 - chance);
}

std::string divergence_reason(const EpochHealth& h) {
  if (!std::isfinite(h.train_loss)) {
    return fmt::format("the training loss is {}", h.train_loss);
  }
  if (h.steps < kMinStepsToJudge) return "";
  const double threshold = chance_threshold_percent(h.classes);
  if (h.classes > 1 && h.train_accuracy_percent < threshold) {
    return fmt::format("the training accuracy {:.2f}% is at chance (below {:.2f}% for {} classes)",
                       h.train_accuracy_percent, threshold, h.classes);
  }
  if (h.distinct_test_labels > 1 && h.distinct_test_predictions <= 1) {
    return fmt::format(
        "the network predicts one class for every test image ({} classes among the labels)",
        h.distinct_test_labels);
  }
  return "";
}

}  // namespace palsim::training
