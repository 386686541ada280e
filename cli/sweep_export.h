#pragma once
// Exports of a sweep database: one object (or row) per point with its
// parameters, status, cycles, energy and energy breakdown.
#include <string>
#include <vector>

#include "cli/sweep_db.h"

namespace palsim::cli {

nlohmann::json records_json(const std::vector<PointRecord>& records);
std::string records_csv(const std::vector<PointRecord>& records);
std::string records_markdown(const std::vector<PointRecord>& records);
// Copies every point of `sources` into `target` (a point present in several
// keeps the last one that is done).
void merge_databases(const std::vector<std::string>& sources, ResultDb& target);

// Writes speedup / energy-efficiency-vs-G and energy-breakdown plots (PNG and
// SVG via gnuplot) and their data (CSV) into `dir`; returns the files written.
std::vector<std::string> plot_records(const std::vector<PointRecord>& records,
                                      const std::string& dir);

}  // namespace palsim::cli
