// Topology from hwloc: the live host or an hwloc XML export.
#include <fcntl.h>
#include <hwloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "probe/host_state.hpp"
#include "probe/probe.hpp"

namespace vpt {

namespace {

struct HwlocTopology {
  hwloc_topology_t handle = nullptr;
  HwlocTopology() {
    if (hwloc_topology_init(&handle) != 0) throw std::runtime_error("cannot initialise hwloc");
  }
  ~HwlocTopology() { hwloc_topology_destroy(handle); }
  HwlocTopology(const HwlocTopology&) = delete;
  HwlocTopology& operator=(const HwlocTopology&) = delete;
};

CpuSet to_cpuset(hwloc_const_bitmap_t bitmap) {
  CpuSet set;
  if (!bitmap || hwloc_bitmap_weight(bitmap) < 0) return set;  // infinite sets are not CPU lists
  unsigned id;
  hwloc_bitmap_foreach_begin(id, bitmap) { set.insert(id); }
  hwloc_bitmap_foreach_end();
  return set;
}

std::string info(hwloc_obj_t obj, const char* name) {
  const char* value = hwloc_obj_get_info_by_name(obj, name);
  std::string text = value ? value : "";
  text.erase(text.find_last_not_of(" \t") + 1);  // CPUID model strings are space-padded
  return text;
}

unsigned os_or_logical(hwloc_obj_t obj) {
  return obj->os_index != HWLOC_UNKNOWN_INDEX ? obj->os_index : obj->logical_index;
}

std::optional<unsigned> parse_unsigned(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  unsigned long value = std::strtoul(text.c_str(), &end, 0);
  if (*end != '\0') return std::nullopt;
  return static_cast<unsigned>(value);
}

void read_cpus_cores_packages(hwloc_topology_t h, Topology& topo) {
  std::map<hwloc_obj_t, std::size_t> core_of;  // hwloc Core (or lone PU) -> topo.cores index
  std::map<unsigned, Package> packages;
  hwloc_obj_t pu = nullptr;
  while ((pu = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_PU, pu)) != nullptr) {
    // A PU's cpuset is its own OS index; a corrupt export can say otherwise (and
    // name a CPU number too large to hold in a CpuSet).
    if (hwloc_bitmap_weight(pu->cpuset) != 1 || !hwloc_bitmap_isset(pu->cpuset, pu->os_index) ||
        pu->os_index >= kCpuNumberLimit)
      throw std::runtime_error(fmt::format("PU P#{} does not match its CPU set (the export is corrupt)", pu->os_index));
    LogicalCpu cpu;
    cpu.os_index = pu->os_index;
    topo.cpus.push_back(cpu);

    hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_PACKAGE, pu);
    unsigned pkg_index = pkg ? os_or_logical(pkg) : 0;
    Package& package = packages[pkg_index];
    package.os_index = pkg_index;
    package.cpus.insert(pu->os_index);
    if (pkg && package.cpu_model.empty()) package.cpu_model = info(pkg, "CPUModel");
    if (pkg && topo.cpu_vendor.empty()) topo.cpu_vendor = info(pkg, "CPUVendor");
    if (pkg && !topo.cpu_family) topo.cpu_family = detail::parse_cpu_family(info(pkg, "CPUFamilyNumber"));

    // Trimmed exports can lack Core objects: each PU is then its own core.
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_CORE, pu);
    hwloc_obj_t key = core ? core : pu;
    auto [it, inserted] = core_of.try_emplace(key, topo.cores.size());
    if (inserted) topo.cores.push_back(Core{0, {}, pkg_index, 0});
    topo.cores[it->second].cpus.insert(pu->os_index);
  }
  for (auto& [index, package] : packages) topo.packages.push_back(std::move(package));
}

void read_caches(hwloc_topology_t h, Topology& topo) {
  const CpuSet online = all_cpus(topo);
  for (int t = HWLOC_OBJ_L1CACHE; t <= HWLOC_OBJ_L3ICACHE; ++t) {
    auto type = static_cast<hwloc_obj_type_t>(t);
    hwloc_obj_t obj = nullptr;
    while ((obj = hwloc_get_next_obj_by_type(h, type, obj)) != nullptr) {
      Cache cache;
      cache.level = static_cast<int>(obj->attr->cache.depth);
      cache.type = obj->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION ? CacheType::Instruction
                   : obj->attr->cache.type == HWLOC_OBJ_CACHE_DATA      ? CacheType::Data
                                                                         : CacheType::Unified;
      if (obj->attr->cache.size) cache.size_bytes = obj->attr->cache.size;
      cache.cpus = to_cpuset(obj->cpuset) & online;
      if (!cache.cpus.empty()) topo.caches.push_back(std::move(cache));
    }
  }
}

void read_numa(hwloc_topology_t h, Topology& topo) {
  hwloc_obj_t node = nullptr;
  std::map<hwloc_obj_t, unsigned> os_of;
  while ((node = hwloc_get_next_obj_by_type(h, HWLOC_OBJ_NUMANODE, node)) != nullptr) {
    NumaNode numa;
    numa.os_index = os_or_logical(node);
    numa.cpus = to_cpuset(node->cpuset) & all_cpus(topo);
    if (node->attr->numanode.local_memory) numa.memory_bytes = node->attr->numanode.local_memory;
    os_of[node] = numa.os_index;
    topo.numa_nodes.push_back(std::move(numa));
  }
  std::sort(topo.numa_nodes.begin(), topo.numa_nodes.end(),
            [](const NumaNode& a, const NumaNode& b) { return a.os_index < b.os_index; });
  // Where some nodes report memory, a node reporting none has none (the
  // CPU-only nodes of some L3-as-NUMA BIOS settings); where none does (CPUID
  // dumps), the sizes are unknown.
  if (std::any_of(topo.numa_nodes.begin(), topo.numa_nodes.end(), [](const NumaNode& n) { return n.memory_bytes; }))
    for (NumaNode& n : topo.numa_nodes)
      if (!n.memory_bytes) n.memory_bytes = 0;
  if (topo.numa_nodes.size() < 2) return;

  unsigned nr = 1;
  hwloc_distances_s* dist = nullptr;
  if (hwloc_distances_get_by_type(h, HWLOC_OBJ_NUMANODE, &nr, &dist, HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) != 0 ||
      nr == 0)
    return;
  const std::size_t n = topo.numa_nodes.size();
  auto position = [&](hwloc_obj_t obj) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < n; ++i)
      if (topo.numa_nodes[i].os_index == os_of[obj]) return i;
    return std::nullopt;
  };
  std::vector<std::vector<double>> matrix(n, std::vector<double>(n, 0.0));
  bool complete = dist->nbobjs == n;
  for (unsigned i = 0; complete && i < dist->nbobjs; ++i)
    for (unsigned j = 0; j < dist->nbobjs; ++j) {
      auto pi = position(dist->objs[i]), pj = position(dist->objs[j]);
      if (!pi || !pj) { complete = false; break; }
      matrix[*pi][*pj] = static_cast<double>(dist->values[i * dist->nbobjs + j]);
    }
  hwloc_distances_release(h, dist);
  if (complete) topo.numa_distances = std::move(matrix);
}

void read_kinds(hwloc_topology_t h, Topology& topo) {
  int nr = hwloc_cpukinds_get_nr(h, 0);
  struct Raw { int efficiency; CoreKind kind; };
  std::vector<Raw> raw;
  hwloc_bitmap_t cpuset = hwloc_bitmap_alloc();
  for (int i = 0; i < nr; ++i) {
    int efficiency = -1;
    unsigned nr_infos = 0;
    hwloc_info_s* infos = nullptr;
    if (hwloc_cpukinds_get_info(h, static_cast<unsigned>(i), cpuset, &efficiency, &nr_infos, &infos, 0) != 0)
      continue;
    CoreKind kind;
    kind.cpus = to_cpuset(cpuset);
    for (unsigned k = 0; k < nr_infos; ++k) {
      std::string name = infos[k].name, value = infos[k].value;
      if (name == "CoreType" || name == "CPUPart") kind.core_type = value;
      else if (name == "FrequencyMaxMHz") kind.max_mhz = parse_unsigned(value);
      else if (name == "LinuxCapacity") kind.linux_capacity = parse_unsigned(value);
    }
    raw.push_back({efficiency, std::move(kind)});
  }
  hwloc_bitmap_free(cpuset);
  // hwloc orders kinds by efficiency when it knows it; otherwise fall back to
  // max frequency / capacity, lowest first.
  std::stable_sort(raw.begin(), raw.end(), [](const Raw& a, const Raw& b) {
    if (a.efficiency >= 0 && b.efficiency >= 0) return a.efficiency < b.efficiency;
    auto score = [](const CoreKind& k) { return k.linux_capacity.value_or(0) * 100000ull + k.max_mhz.value_or(0); };
    return score(a.kind) < score(b.kind);
  });
  for (auto& r : raw) topo.kinds.push_back(std::move(r.kind));
}

PciDevice::Class classify(unsigned class_id) {
  if ((class_id >> 8) == 0x03) return PciDevice::Class::Gpu;
  if (class_id == 0x0108) return PciDevice::Class::Nvme;
  if ((class_id >> 8) == 0x01) return PciDevice::Class::Storage;
  if ((class_id >> 8) == 0x02) return PciDevice::Class::Network;
  if ((class_id >> 8) == 0x12 || (class_id >> 8) == 0x0b) return PciDevice::Class::Accelerator;
  return PciDevice::Class::Other;
}

void read_pci(hwloc_topology_t h, Topology& topo, bool live) {
  hwloc_obj_t obj = nullptr;
  while ((obj = hwloc_get_next_pcidev(h, obj)) != nullptr) {
    const auto& attr = obj->attr->pcidev;
    PciDevice dev;
    dev.device_class = classify(attr.class_id);
    if (dev.device_class == PciDevice::Class::Other) continue;
    dev.address = fmt::format("{:04x}:{:02x}:{:02x}.{:x}", attr.domain, attr.bus, attr.dev, attr.func);
    dev.vendor_id = attr.vendor_id;
    dev.device_id = attr.device_id;
    std::string vendor = info(obj, "PCIVendor"), device = info(obj, "PCIDevice");
    dev.name = vendor.empty() ? device : device.empty() ? vendor : vendor + " " + device;
    for (hwloc_obj_t child = obj->io_first_child; child; child = child->next_sibling)
      if (child->type == HWLOC_OBJ_OS_DEVICE && child->name) dev.os_devices.push_back(child->name);
    hwloc_obj_t local = hwloc_get_non_io_ancestor_obj(h, obj);
    if (local && local->parent) {  // attached below the Machine: real locality
      dev.local_cpus = to_cpuset(local->cpuset) & all_cpus(topo);
      CpuSet nodes = to_cpuset(local->nodeset);
      if (nodes.size() == 1) dev.numa = nodes.first();
    } else if (topo.numa_nodes.size() == 1) {
      dev.local_cpus = all_cpus(topo);
      dev.numa = topo.numa_nodes.front().os_index;
    }
    if (live) dev.iommu_group = read_iommu_group(dev.address);
    topo.pci.push_back(std::move(dev));
  }
}

Topology build(hwloc_topology_t h, TopologySource source, const std::string& name) {
  Topology topo;
  topo.source = source;
  topo.source_name = name;
  if (int pus = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU); pus > static_cast<int>(kMaxCpus))
    throw TopologyInputError(fmt::format("cannot read topology '{}': {} CPUs: vpt-tune handles hosts of up to {} CPUs",
                                         name, pus, kMaxCpus));
  read_cpus_cores_packages(h, topo);
  read_caches(h, topo);
  read_numa(h, topo);
  read_kinds(h, topo);
  read_pci(h, topo, source == TopologySource::LiveHost);
  if (hwloc_obj_t root = hwloc_get_root_obj(h)) topo.host.hostname = info(root, "HostName");
  detail::check_cache_plausibility(topo);
  detail::name_and_merge_kinds(topo);
  finish_topology(topo);
  return topo;
}

// hwloc prints its own parse errors to stderr; we say it in one line instead.
void quiet_hwloc() { setenv("HWLOC_XML_VERBOSE", "0", 0); setenv("HWLOC_HIDE_ERRORS", "1", 0); }

// Catches what hwloc 2.9 would reject with a cryptic message, and says why.
void precheck_xml(std::string_view xml, const std::string& name) {
  auto fail = [&](const std::string& problem) {
    throw TopologyInputError(fmt::format("cannot read topology '{}': {}", name, problem));
  };
  if (xml.find_first_not_of(" \t\r\n") == std::string_view::npos) fail("the file is empty");
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    // The other text a user has at hand: a pasted `lscpu -e` listing.
    const bool lscpu = xml.find("L1d:L1i") != std::string_view::npos ||
                       (xml.find("CPU") != std::string_view::npos && xml.find("CORE") != std::string_view::npos &&
                        xml.find("SOCKET") != std::string_view::npos);
    fail(fmt::format("not well-formed XML ({} at byte {}){}", parsed.description(), parsed.offset,
                     lscpu ? "; it looks like `lscpu -e` output: read it with --lscpu FILE" : ""));
  }
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "topology")
    fail(fmt::format("not an hwloc topology export (root element is <{}>, expected <topology>){}", root.name(),
                     std::string_view(root.name()) == "domain"
                         ? "; a libvirt domain goes to --xml FILE, the host's topology to --topology or --lscpu"
                         : ""));
  std::string version = root.attribute("version").as_string("1.0");
  if (version.starts_with("3"))
    fail(fmt::format("hwloc XML version {} (written by hwloc 3.x) cannot be read by hwloc {}; "
                     "export it with hwloc 2.x (`lstopo --of xml`) or with hwloc 3's "
                     "`--export-xml-flags v2`",
                     version, HWLOC_API_VERSION >= 0x20900 ? "2.9+" : "2.x"));
  if (!root.child("object")) fail("the topology has no objects");
  // Real exports are about ten levels deep; hwloc's own parser recurses.
  constexpr unsigned kMaxDepth = 64;
  struct DepthCheck : pugi::xml_tree_walker {
    bool for_each(pugi::xml_node&) override { return depth() <= static_cast<int>(kMaxDepth); }
  } depth_check;
  if (!doc.traverse(depth_check)) fail(fmt::format("elements are nested more than {} deep", kMaxDepth));
  // Numbers hwloc would saturate silently (a cache of 16 EiB) or that no
  // CPU list holds: out of range is the file's error.
  struct Limit {
    const char* attribute;
    std::uint64_t max;
  };
  constexpr Limit kLimits[] = {{"os_index", kCpuNumberLimit - 1}, {"cache_size", 1ull << 40}, {"local_memory", 1ull << 56}};
  std::string problem;
  doc.find_node([&](pugi::xml_node n) {
    if (std::string_view(n.name()) != "object") return false;
    for (const Limit& limit : kLimits) {
      pugi::xml_attribute a = n.attribute(limit.attribute);
      if (!a) continue;
      std::string_view text = a.value();
      std::uint64_t value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > limit.max) {
        problem = fmt::format("<object type=\"{}\"> has {}=\"{}\": expected a whole number up to {}",
                              n.attribute("type").value(), limit.attribute, text.substr(0, 40), limit.max);
        return true;
      }
    }
    return false;
  });
  if (!problem.empty()) fail(problem);
  if (!doc.find_node([](pugi::xml_node n) {
        return std::string_view(n.name()) == "object" && std::string_view(n.attribute("type").as_string()) == "PU";
      }))
    fail("the topology has no PU (logical CPU) objects");
}

// hwloc 2.9's XML import crashes on some malformed exports (an <object>
// without complete_cpuset: SEGV in hwloc_bitmap_compare_first; found by
// tests/fuzz/hwloc_xml_fuzz.cpp, docs/fuzzing.md). So hwloc reads the buffer
// first in a child process: if that crashes or hangs, the file is at fault
// and says so in one line; this process only loads what hwloc survives.
void check_hwloc_survives(const std::string& buffer, const std::string& name) {
  pid_t child = ::fork();
  if (child < 0) return;  // no process to spare: load it here as before
  if (child == 0) {
    // Default signal actions, so that a crash ends the child (not a handler
    // of this process's, such as a sanitizer's or a fuzzer's), and silence.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE}) ::sigaction(sig, &dfl, nullptr);
    if (int null = ::open("/dev/null", O_WRONLY); null >= 0) {
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
    }
    hwloc_topology_t t;
    int rc = hwloc_topology_init(&t) == 0 && hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_IMPORTANT) == 0 &&
                     hwloc_topology_set_xmlbuffer(t, buffer.c_str(), static_cast<int>(buffer.size() + 1)) == 0 &&
                     hwloc_topology_load(t) == 0
                 ? 0
                 : 3;  // hwloc refused it: the load below says why
    ::_exit(rc);
  }
  auto fail = [&](const std::string& what) {
    throw TopologyInputError(fmt::format("cannot read topology '{}': hwloc {} reading it; the file is malformed", name, what));
  };
  constexpr auto kLimit = std::chrono::seconds(10);
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) break;
    if (done < 0 && errno != EINTR) return;
    if (std::chrono::steady_clock::now() - start > kLimit) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      fail(fmt::format("did not finish within {} s", kLimit.count()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (WIFSIGNALED(status)) fail(fmt::format("crashed ({})", strsignal(WTERMSIG(status))));
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3) fail("crashed");
}

}  // namespace

Topology load_hwloc_xml(std::string_view xml, const std::string& name) {
  precheck_xml(xml, name);
  quiet_hwloc();
  std::string buffer(xml);  // hwloc wants a NUL-terminated buffer and its length with the NUL
  check_hwloc_survives(buffer, name);
  HwlocTopology h;
  hwloc_topology_set_io_types_filter(h.handle, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  if (hwloc_topology_set_xmlbuffer(h.handle, buffer.c_str(), static_cast<int>(buffer.size() + 1)) != 0 ||
      hwloc_topology_load(h.handle) != 0)
    throw TopologyInputError(
        fmt::format("cannot read topology '{}': hwloc could not load this XML ({})", name, std::strerror(errno)));
  try {
    return build(h.handle, TopologySource::HwlocXml, name);
  } catch (const TopologyInputError&) {
    throw;
  } catch (const std::exception& e) {
    throw TopologyInputError(fmt::format("cannot read topology '{}': {}", name, e.what()));
  }
}

Topology load_hwloc_xml_file(const std::string& path) { return load_hwloc_xml(read_input_file(path), path); }

// The feature flags of the first CPU in /proc/cpuinfo ("flags" on x86,
// "Features" on ARM); empty when there is no such line.
static std::vector<std::string> read_cpu_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  for (int n = 0; n < 10000 && std::getline(in, line); ++n) {
    if (!line.starts_with("flags") && !line.starts_with("Features")) continue;
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) return detail::parse_cpu_flags(std::string_view(line).substr(colon + 1));
  }
  return {};
}

Topology probe_live_host() {
  HwlocTopology h;
  hwloc_topology_set_io_types_filter(h.handle, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  if (hwloc_topology_load(h.handle) != 0)
    throw std::runtime_error(fmt::format("cannot probe this host with hwloc: {}", std::strerror(errno)));
  Topology topo = build(h.handle, TopologySource::LiveHost, "this host");
  std::string hostname = topo.host.hostname;
  topo.host = read_host_state();
  if (topo.host.hostname.empty()) topo.host.hostname = hostname;
  topo.offline_cpus = read_offline_cpus();
  topo.cpu_flags = read_cpu_flags();
  return topo;
}

}  // namespace vpt
