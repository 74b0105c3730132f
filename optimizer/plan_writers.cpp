#include "optimizer/plan_writers.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <nlohmann/json.hpp>

#include "common/input_file.hpp"
#include "common/json_document.hpp"
#include "common/json_reader.hpp"

namespace vpt {

using nlohmann::json;

namespace {

json cpus_json(const CpuSet& set) { return set.to_vector(); }

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

namespace {

Plan read_plan(const json& doc) {
  using R = JsonReader;
  if (!doc.is_object()) R::fail("", "not a JSON object");
  const json* schema = R::find(doc, "schema");
  if (!schema || !schema->is_string() || schema->get<std::string>() != kPlanSchema)
    R::fail("", fmt::format("not a vpt-tune plan (expected \"schema\": \"{}\")", kPlanSchema));
  Plan plan;
  const json& guests = R::array(doc, "guests", "");
  for (std::size_t i = 0; i < guests.size(); ++i) {
    const std::string p = R::index("guests", i);
    const json& g = guests[i];
    GuestPlan guest;
    guest.name = R::field<std::string>(g, "name", p);
    guest.vcpus = R::cpu_numbers(g, "vcpus", p, kCpuNumberLimit);  // no guest has more vCPUs than CPU numbers
    if (guest.vcpus.empty()) R::fail(R::join(p, "vcpus"), "a guest has at least one vCPU");
    guest.emulator = R::cpu_number_set(R::at(g, "emulator", p), R::join(p, "emulator"));
    const json& iothreads = R::array(g, "iothreads", p);
    for (std::size_t k = 0; k < iothreads.size(); ++k)
      guest.iothreads.push_back(R::cpu_number_set(iothreads[k], R::index(R::join(p, "iothreads"), k)));
    const std::string tp = R::join(p, "topology");
    const json& t = R::at(g, "topology", p);
    // Each below kCpuNumberLimit, so that the product in 64 bits cannot wrap.
    auto count = [&](std::string_view key) {
      const unsigned n = R::field<unsigned>(t, key, tp);
      if (n >= kCpuNumberLimit) R::fail(R::join(tp, key), fmt::format("{} is more than a guest can have", n));
      return n;
    };
    guest.topology = {count("sockets"), count("dies"), count("cores"), count("threads")};
    std::uint64_t presented = std::uint64_t{guest.topology.sockets} * guest.topology.dies * guest.topology.cores *
                              guest.topology.threads;
    if (presented != guest.vcpus.size())
      R::fail(tp, fmt::format("presents {} vCPUs ({} sockets x {} dies x {} cores x {} threads), its vcpus list has {}",
                              presented, guest.topology.sockets, guest.topology.dies, guest.topology.cores,
                              guest.topology.threads, guest.vcpus.size()));
    if (g.contains("memory_nodes"))
      guest.memory_nodes = R::cpu_number_set(R::at(g, "memory_nodes", p), R::join(p, "memory_nodes"));
    if (const json* cells = R::find(g, "numa_cells")) {
      const std::string cp = R::join(p, "numa_cells");
      if (!cells->is_array()) R::fail(cp, fmt::format("expected an array, found {}", cells->type_name()));
      for (std::size_t k = 0; k < cells->size(); ++k) {
        const json& c = (*cells)[k];
        const std::string cellp = R::index(cp, k);
        NumaCell cell;
        cell.cell = R::field<unsigned>(c, "cell", cellp);
        cell.vcpus = R::cpu_number_set(R::at(c, "vcpus", cellp), R::join(cellp, "vcpus"));
        cell.host_node = R::field<unsigned>(c, "host_node", cellp);
        if (c.contains("memory_bytes")) cell.memory_bytes = R::field<std::uint64_t>(c, "memory_bytes", cellp);
        guest.numa_cells.push_back(std::move(cell));
      }
    }
    guest.cache_passthrough = R::field_or(g, "cache_passthrough", p, true);
    guest.require_topoext = R::field_or(g, "require_topoext", p, false);
    plan.guests.push_back(std::move(guest));
  }
  plan.host = R::cpu_number_set(R::at(doc, "host", ""), "host");
  if (doc.contains("isolate")) plan.isolate = R::cpu_number_set(R::at(doc, "isolate", ""), "isolate");
  if (doc.contains("irq_affinity"))
    plan.irq_affinity = R::cpu_number_set(R::at(doc, "irq_affinity", ""), "irq_affinity");
  const json& score = R::at(doc, "score", "");
  plan.score.total = R::field<double>(score, "total", "score");
  const json* notes = R::find(doc, "score_terms");
  for (const auto& [name, value] : score.items())
    if (name != "total")
      plan.score.terms.push_back({name, R::get<double>(value, R::join("score", name)),
                                  notes ? R::optional<std::string>(*notes, name, "score_terms").value_or("") : ""});
  plan.optimal = R::field_or(doc, "optimal", "", false);
  plan.search = R::field_or<std::string>(doc, "search", "", "");
  using Lines = std::vector<std::string>;
  plan.explanation = R::field_or(doc, "explanation", "", Lines{});
  plan.warnings = R::field_or(doc, "warnings", "", Lines{});
  plan.advice = R::field_or(doc, "advice", "", Lines{});
  return plan;
}

}  // namespace

Plan plan_from_json(const json& doc, const std::string& name) {
  try {
    return read_plan(doc);
  } catch (const JsonFieldError& e) {
    throw PlanInputError(fmt::format("cannot read plan '{}': {}", name, e.what()));
  }
}

std::string score_summary(const Plan& plan) {
  std::vector<const ScoreTerm*> terms;
  for (const ScoreTerm& t : plan.score.terms)
    if (t.value > 0.05) terms.push_back(&t);
  std::stable_sort(terms.begin(), terms.end(), [](const ScoreTerm* a, const ScoreTerm* b) { return a->value > b->value; });
  std::string from;
  if (terms.empty()) {
    from = "nothing shared, split or misplaced";
  } else {
    const double total = plan.score.total > 0 ? plan.score.total : 1.0;
    const double first = terms[0]->value / total;
    if (first > 0.995 || terms.size() == 1)
      from = fmt::format("all of it from {}", terms[0]->explanation);
    else if (first >= 0.5)
      from = fmt::format("{:.0f}% of it from {}", 100 * first, terms[0]->explanation);
    else
      from = fmt::format("{:.0f}% of it from {} and {:.0f}% from {}", 100 * first, terms[0]->explanation,
                         100 * terms[1]->value / total, terms[1]->explanation);
  }
  const std::string lower = plan.optimal ? "no plan for this request scores lower" : "the search's best, not proved optimal";
  return fmt::format("Score {:.1f} (lower is better; only comparable between plans of one host): {}; {}. "
                     "--explain lists every term.",
                     plan.score.total, from, lower);
}

void write_plan_text(std::ostream& out, const Plan& plan, bool score_terms) {
  for (const std::string& line : plan.explanation) fmt::print(out, "{}\n", line);
  if (score_terms) {
    fmt::print(out, "\nScore {:.1f} (lower is better; {}{})\n", plan.score.total, plan.search,
               plan.optimal ? "" : "; not proved optimal");
    for (const ScoreTerm& t : plan.score.terms)
      fmt::print(out, "  {:>9.1f}  {:<24} {}\n", t.value, t.name, t.explanation);
  } else {
    fmt::print(out, "\n{}\n", score_summary(plan));
  }
  if (!plan.warnings.empty()) {
    fmt::print(out, "\nWarnings\n");
    for (const std::string& w : plan.warnings) fmt::print(out, "  ! {}\n", w);
  }
  if (!plan.advice.empty()) {
    fmt::print(out, "\nAdvice\n");
    for (const std::string& a : plan.advice) fmt::print(out, "  - {}\n", a);
  }
}

Plan load_plan_file(const std::string& path) {
  try {
    return plan_from_json(parse_json_document(read_input_file_text(path)), path);
  } catch (const PlanInputError&) {
    throw;
  } catch (const std::exception& e) {  // the file or its JSON syntax
    throw PlanInputError(fmt::format("cannot read plan '{}': {}", path, e.what()));
  }
}

}  // namespace vpt
