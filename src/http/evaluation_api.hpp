#pragma once
// The evaluation API (issue #20): /admin/v1/frameworks, /admin/v1/evaluations (define, run, list,
// delete; POST /admin/v1/evaluations/compare for entropy weights and entropy-TOPSIS on a given panel)
// and /admin/v1/indicators/{code}/values (manual values). The work is in evaluation/.
namespace ct::evaluation {
class Evaluations;
}

namespace ct::http {

class Router;
struct Services;

// `evaluations` outlives the router.
void add_evaluation_routes(Router& router, Services& services, evaluation::Evaluations& evaluations);

}  // namespace ct::http
