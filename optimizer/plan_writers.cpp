#include "optimizer/plan_writers.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

namespace vpt {

using nlohmann::json;

namespace {

json cpus_json(const CpuSet& set) { return set.to_vector(); }

// CPU numbers as CpuSet::parse bounds them: a -1 or a 1e10 is an error, not
// a wrapped 4294967295 that a CpuSet would allocate half a gigabyte for.
constexpr unsigned kCpuLimit = 1u << 20;

unsigned whole_number(const json& value, std::string_view field, unsigned limit) {
  bool ok = value.is_number_unsigned() ? value.get<std::uint64_t>() < limit
            : value.is_number_integer() ? value.get<std::int64_t>() >= 0 && value.get<std::int64_t>() < limit
                                        : false;
  if (!ok)
    throw std::runtime_error(fmt::format("plan field '{}': {} is not a whole number below {}", field, value.dump(), limit));
  return static_cast<unsigned>(value.get<std::uint64_t>());
}

CpuSet cpus_from(const json& value, std::string_view field) {
  if (!value.is_array()) throw std::runtime_error(fmt::format("plan field '{}' must be an array of CPU numbers", field));
  CpuSet set;
  for (const json& cpu : value) set.insert(whole_number(cpu, field, kCpuLimit));
  return set;
}

const json& field(const json& object, const char* name) {
  if (!object.is_object() || !object.contains(name))
    throw std::runtime_error(fmt::format("plan has no field '{}'", name));
  return object.at(name);
}

}  // namespace

namespace {

json guest_json(const GuestPlan& g) {
  json iothreads = json::array();
  for (const CpuSet& io : g.iothreads) iothreads.push_back(cpus_json(io));
  json cells = json::array();
  for (const NumaCell& c : g.numa_cells) {
    json cell = {{"cell", c.cell}, {"vcpus", cpus_json(c.vcpus)}, {"host_node", c.host_node}};
    if (c.memory_bytes) cell["memory_bytes"] = *c.memory_bytes;
    cells.push_back(std::move(cell));
  }
  return {{"name", g.name},
          {"vcpus", g.vcpus},
          {"emulator", cpus_json(g.emulator)},
          {"iothreads", iothreads},
          {"topology",
           {{"sockets", g.topology.sockets}, {"dies", g.topology.dies}, {"cores", g.topology.cores},
            {"threads", g.topology.threads}}},
          {"memory_nodes", cpus_json(g.memory_nodes)},
          {"numa_cells", cells},
          {"cache_passthrough", g.cache_passthrough},
          {"require_topoext", g.require_topoext}};
}

}  // namespace

json plan_to_json(const Plan& plan) {
  json guests = json::array();
  for (const GuestPlan& g : plan.guests) guests.push_back(guest_json(g));
  json terms = json::object();
  json term_notes = json::object();
  for (const ScoreTerm& t : plan.score.terms) {
    terms[t.name] = t.value;
    term_notes[t.name] = t.explanation;
  }
  json score = terms;
  score["total"] = plan.score.total;
  return {{"schema", kPlanSchema},
          {"guests", guests},
          {"host", cpus_json(plan.host)},
          {"isolate", cpus_json(plan.isolate)},
          {"irq_affinity", cpus_json(plan.irq_affinity)},
          {"score", score},
          {"score_terms", term_notes},
          {"optimal", plan.optimal},
          {"search", plan.search},
          {"explanation", plan.explanation},
          {"warnings", plan.warnings},
          {"advice", plan.advice}};
}

json host_plan_to_json(const HostPlan& plan) {
  json guests = json::array();
  for (const HostGuestPlan& g : plan.guests) {
    json guest = {{"name", g.name}, {"role", role_name(g.role)}, {"why", g.role_reason}, {"vcpus", g.vcpus}};
    switch (g.role) {
      case GuestRole::Dedicated:
        guest["plan"] = guest_json(*g.plan);
        guest["same_cores_as"] = g.same_cores_as;
        guest["kept_clean_pins"] = g.kept_clean_pins;
        break;
      case GuestRole::Shared: guest["pool"] = cpus_json(g.pool); break;
      case GuestRole::Kept: guest["kept_cpus"] = cpus_json(g.kept_cpus); break;
    }
    guests.push_back(std::move(guest));
  }
  json doc = {{"schema", kHostPlanSchema},
              {"guests", guests},
              {"host", cpus_json(plan.host)},
              {"shared_pool", cpus_json(plan.shared_pool)},
              {"explanation", plan.explanation},
              {"warnings", plan.warnings}};
  doc["dedicated"] = plan.dedicated.guests.empty() ? json(nullptr) : plan_to_json(plan.dedicated);
  return doc;
}

Plan plan_from_json(const json& doc) {
  const json* schema = doc.is_object() && doc.contains("schema") ? &doc.at("schema") : nullptr;
  if (!schema || !schema->is_string() || schema->get<std::string>() != kPlanSchema)
    throw std::runtime_error(fmt::format("not a vpt-tune plan (expected \"schema\": \"{}\")", kPlanSchema));
  try {
    Plan plan;
    for (const json& g : field(doc, "guests")) {
      GuestPlan guest;
      guest.name = field(g, "name").get<std::string>();
      const json& vcpus = field(g, "vcpus");
      if (!vcpus.is_array() || vcpus.empty())
        throw std::runtime_error("plan field 'vcpus' must be a non-empty array of CPU numbers");
      for (const json& cpu : vcpus) guest.vcpus.push_back(whole_number(cpu, "vcpus", kCpuLimit));
      guest.emulator = cpus_from(field(g, "emulator"), "emulator");
      for (const json& io : field(g, "iothreads")) guest.iothreads.push_back(cpus_from(io, "iothreads"));
      const json& t = field(g, "topology");
      guest.topology = {whole_number(field(t, "sockets"), "sockets", kCpuLimit),
                        whole_number(field(t, "dies"), "dies", kCpuLimit),
                        whole_number(field(t, "cores"), "cores", kCpuLimit),
                        whole_number(field(t, "threads"), "threads", kCpuLimit)};
      // The product in 64 bits: four numbers below 2^20 cannot wrap it.
      std::uint64_t presented = std::uint64_t{guest.topology.sockets} * guest.topology.dies * guest.topology.cores *
                                guest.topology.threads;
      if (presented != guest.vcpus.size())
        throw std::runtime_error(fmt::format("guest '{}': its topology presents {} vCPUs ({} sockets x {} dies x {} "
                                             "cores x {} threads), its vcpus list has {}",
                                             guest.name, presented, guest.topology.sockets, guest.topology.dies,
                                             guest.topology.cores, guest.topology.threads, guest.vcpus.size()));
      if (g.contains("memory_nodes")) guest.memory_nodes = cpus_from(g.at("memory_nodes"), "memory_nodes");
      if (g.contains("numa_cells"))
        for (const json& c : g.at("numa_cells")) {
          NumaCell cell;
          cell.cell = field(c, "cell").get<unsigned>();
          cell.vcpus = cpus_from(field(c, "vcpus"), "numa_cells[].vcpus");
          cell.host_node = field(c, "host_node").get<unsigned>();
          if (c.contains("memory_bytes")) cell.memory_bytes = c.at("memory_bytes").get<std::uint64_t>();
          guest.numa_cells.push_back(std::move(cell));
        }
      guest.cache_passthrough = g.value("cache_passthrough", true);
      guest.require_topoext = g.value("require_topoext", false);
      plan.guests.push_back(std::move(guest));
    }
    plan.host = cpus_from(field(doc, "host"), "host");
    if (doc.contains("isolate")) plan.isolate = cpus_from(doc.at("isolate"), "isolate");
    if (doc.contains("irq_affinity")) plan.irq_affinity = cpus_from(doc.at("irq_affinity"), "irq_affinity");
    const json& score = field(doc, "score");
    plan.score.total = field(score, "total").get<double>();
    json notes = doc.value("score_terms", json::object());
    for (auto& [name, value] : score.items())
      if (name != "total") plan.score.terms.push_back({name, value.get<double>(), notes.value(name, "")});
    plan.optimal = doc.value("optimal", false);
    plan.search = doc.value("search", "");
    plan.explanation = doc.value("explanation", std::vector<std::string>{});
    plan.warnings = doc.value("warnings", std::vector<std::string>{});
    plan.advice = doc.value("advice", std::vector<std::string>{});
    return plan;
  } catch (const json::exception& e) {
    throw std::runtime_error(fmt::format("malformed plan: {}", e.what()));
  }
}

void write_plan_text(std::ostream& out, const Plan& plan) {
  for (const std::string& line : plan.explanation) fmt::print(out, "{}\n", line);
  fmt::print(out, "\nScore {:.1f} (lower is better; {}{})\n", plan.score.total, plan.search,
             plan.optimal ? "" : "; not proved optimal");
  for (const ScoreTerm& t : plan.score.terms)
    fmt::print(out, "  {:>9.1f}  {:<24} {}\n", t.value, t.name, t.explanation);
  if (!plan.warnings.empty()) {
    fmt::print(out, "\nWarnings\n");
    for (const std::string& w : plan.warnings) fmt::print(out, "  ! {}\n", w);
  }
  if (!plan.advice.empty()) {
    fmt::print(out, "\nAdvice\n");
    for (const std::string& a : plan.advice) fmt::print(out, "  - {}\n", a);
  }
}

}  // namespace vpt
