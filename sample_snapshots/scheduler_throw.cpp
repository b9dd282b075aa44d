// Sample: a job scheduler (built with -O2) lets an exception escape a std::function task.
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace sched {
struct Job { std::string name; int priority; };

class Scheduler {
public:
    void add(const std::string &name, int priority, std::function<void(const Job &)> task)
    {
        jobs_.push_back({name, priority});
        tasks_[name] = std::move(task);
    }
    void run_all()
    {
        for (const Job &job : jobs_)
            tasks_.at(job.name)(job);
    }
private:
    std::vector<Job> jobs_;
    std::map<std::string, std::function<void(const Job &)>> tasks_;
};
}  // namespace sched

int main()
{
    sched::Scheduler scheduler;
    int done = 0;
    scheduler.add("compact", 1, [&](const sched::Job &) { ++done; });
    scheduler.add("rotate-logs", 2, [&](const sched::Job &job) {
        if (job.priority > 1)
            throw std::runtime_error("rotate-logs: log directory is read-only");
        ++done;
    });
    scheduler.run_all();
    return done;
}
