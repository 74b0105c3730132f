// Writes the synthetic before/after results the documentation's sample report
// uses (docs/samples/). Not a measurement: see sample_results.hpp.
//
//   make_sample_results --lscpu FILE | --topology FILE.xml  --vcpus N
//                       [--cpu-model TEXT] BEFORE.json AFTER.json
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bench/results.hpp"
#include "optimizer/optimizer.hpp"
#include "probe/probe.hpp"
#include "tests/report/sample_results.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc), files;
  std::string lscpu, xml, cpu_model;
  unsigned vcpus = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(args[i] + " needs a value");
      return args[++i];
    };
    if (args[i] == "--lscpu") lscpu = value();
    else if (args[i] == "--topology") xml = value();
    else if (args[i] == "--vcpus") vcpus = static_cast<unsigned>(std::stoul(value()));
    else if (args[i] == "--cpu-model") cpu_model = value();
    else files.push_back(args[i]);
  }
  if (files.size() != 2 || (lscpu.empty() == xml.empty())) {
    std::cerr << "usage: make_sample_results --lscpu FILE | --topology FILE.xml [--vcpus N] [--cpu-model TEXT] "
                 "BEFORE.json AFTER.json\n";
    return 2;
  }
  try {
    vpt::Topology topo = xml.empty() ? vpt::load_lscpu_file(lscpu) : vpt::load_hwloc_xml_file(xml);
    vpt::Request request;
    vpt::GuestRequest guest;
    guest.name = "win11";
    if (vcpus) guest.vcpus = vcpus;
    request.guests.push_back(guest);
    vpt::Plan plan = vpt::make_plan(topo, request);
    vpt::test::SampleConfig config;
    config.cpu_model = cpu_model;
    config.pinned = false;
    config.seed = 7;
    vpt::save_results_file(vpt::test::sample_results(topo, plan, config), files[0], true);
    config.pinned = true;
    config.seed = 8;
    vpt::save_results_file(vpt::test::sample_results(topo, plan, config), files[1], true);
  } catch (const std::exception& e) {
    std::cerr << "make_sample_results: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
